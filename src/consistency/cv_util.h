#pragma once
/// Conversions between core frames and cv::Mat, and the statistics every metric shares (internal).

#include <opencv2/core.hpp>
#include <vector>

#include "frameloom/consistency/color.h"
#include "frameloom/core/frame.h"
#include "frameloom/core/result.h"

namespace fl::consistency::detail {

/// An 8-bit RGB cv::Mat copy of a frame.
cv::Mat to_mat(const core::Frame& frame);
/// A frame from an 8-bit, 3-channel RGB cv::Mat.
core::Frame to_frame(const cv::Mat& rgb8);
/// 8-bit RGB → float L*a*b* (L in [0, 100]).
cv::Mat to_lab(const cv::Mat& rgb8);
/// Float L*a*b* → 8-bit RGB (saturating).
cv::Mat lab_to_rgb8(const cv::Mat& lab);
/// Area-downscales so the width is at most `max_width` (no-op when smaller or max_width <= 0).
cv::Mat downscale(const cv::Mat& image, int max_width);
/// 8-bit grey of an 8-bit RGB image.
cv::Mat to_gray(const cv::Mat& rgb8);

/// Error unless the video has frames, all of one size, with buffers of the right length.
core::Result<void> check_video(const core::Video& video, const char* what);
/// Error unless the frame has a positive size and a buffer of the right length.
core::Result<void> check_frame(const core::Frame& frame, const char* what);

/// Mean colour of a float L*a*b* image (optionally within an 8-bit mask).
Lab mean_lab(const cv::Mat& lab, const cv::Mat& mask = cv::Mat());

/// Dense Farneback flow such that to(x) ≈ from(x + flow(x)); both 8-bit grey, same size. CV_32FC2.
cv::Mat farneback(const cv::Mat& to_gray, const cv::Mat& from_gray);

/// Where each pixel of `next` comes from in `prev`, and which pixels can be trusted.
struct Alignment {
    cv::Mat map;    ///< CV_32FC2: remap(prev, map) lines prev up with next
    cv::Mat valid;  ///< CV_8U 255 where the flow is forward-backward consistent and lands inside prev
};

/// Two Farneback flows and Sundaram et al.'s occlusion test: |f + b(x + f)|² < 0.01 (|f|² + |b|²) + 0.5.
Alignment align(const cv::Mat& prev_gray, const cv::Mat& next_gray);

/// Local linear least-squares fit of `values` at each index over [i - h, i + h] clipped to the series.
std::vector<double> local_linear_trend(const std::vector<double>& values, int half_window);

}  // namespace fl::consistency::detail
