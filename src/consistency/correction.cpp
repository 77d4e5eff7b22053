#include "frameloom/consistency/correction.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "consistency/cv_util.h"

namespace fl::consistency {
namespace {

/// Per-channel mean and standard deviation of L*a*b* pixels.
struct LabStats {
    std::array<double, 3> mean{};
    std::array<double, 3> stddev{};
};

LabStats stats_of(const cv::Mat& lab) {
    cv::Scalar m, s;
    cv::meanStdDev(lab, m, s);
    return {{m[0], m[1], m[2]}, {s[0], s[1], s[2]}};
}

/// Pooled statistics of several L*a*b* images of one size.
LabStats pooled_stats(const std::vector<cv::Mat>& labs) {
    LabStats out;
    std::array<double, 3> sum{}, sq{};
    double count = 0;
    for (const auto& lab : labs) {
        const LabStats s = stats_of(lab);
        const double n = static_cast<double>(lab.total());
        for (int c = 0; c < 3; ++c) {
            sum[c] += s.mean[c] * n;
            sq[c] += (s.stddev[c] * s.stddev[c] + s.mean[c] * s.mean[c]) * n;
        }
        count += n;
    }
    for (int c = 0; c < 3; ++c) {
        out.mean[c] = sum[c] / count;
        out.stddev[c] = std::sqrt(std::max(0.0, sq[c] / count - out.mean[c] * out.mean[c]));
    }
    return out;
}

/// x' = x + w·((x − μs)·σr/σs + μr − x) per channel, gain clamped to [1/max_gain, max_gain].
cv::Mat transfer(const cv::Mat& lab, const LabStats& from, const LabStats& to, double weight,
                 double max_gain) {
    std::vector<cv::Mat> ch;
    cv::split(lab, ch);
    for (int c = 0; c < 3; ++c) {
        const double gain =
            from.stddev[c] > 1e-3 ? std::clamp(to.stddev[c] / from.stddev[c], 1.0 / max_gain, max_gain) : 1.0;
        // full: x·gain + (μr − μs·gain); blended with the identity by `weight`
        const double alpha = 1.0 + weight * (gain - 1.0);
        const double beta = weight * (to.mean[c] - from.mean[c] * gain);
        ch[c].convertTo(ch[c], CV_32F, alpha, beta);
    }
    cv::Mat out;
    cv::merge(ch, out);
    return out;
}

core::Result<core::Video> match_to(const core::Video& video, const LabStats& target,
                                   const ColorMatchOptions& options) {
    FL_TRY(detail::check_video(video, "clip"));
    const size_t n = video.frames.size();
    std::vector<cv::Mat> labs(n);
    for (size_t t = 0; t < n; ++t) labs[t] = detail::to_lab(detail::to_mat(video.frames[t]));
    const size_t used =
        options.source_frames > 0 ? std::min(n, static_cast<size_t>(options.source_frames)) : n;
    const LabStats source = pooled_stats({labs.begin(), labs.begin() + static_cast<std::ptrdiff_t>(used)});
    const double strength = std::clamp(options.strength, 0.0, 1.0);
    core::Video out;
    out.fps = video.fps;
    out.frames.reserve(n);
    for (size_t t = 0; t < n; ++t) {
        double w = strength;
        if (options.ramp_frames > 0)
            w *= std::max(0.0, 1.0 - static_cast<double>(t) / static_cast<double>(options.ramp_frames));
        if (w <= 0) {
            out.frames.push_back(video.frames[t]);
            continue;
        }
        const LabStats from = options.per_frame ? stats_of(labs[t]) : source;
        out.frames.push_back(detail::to_frame(detail::lab_to_rgb8(transfer(labs[t], from, target, w, 4.0))));
    }
    return out;
}

/// Flow-guided deflicker: exposure E_t = Σ mean(lab_k − warp(lab_k−1)) over trusted pixels; each frame
/// is offset by trend(E)_t − E_t.
core::Video deflicker_flow(const core::Video& video, const std::vector<cv::Mat>& labs,
                           const DeflickerOptions& options) {
    const size_t n = labs.size();
    std::vector<double> exposure[3];
    cv::Mat prev_lab, prev_gray;
    for (size_t t = 0; t < n; ++t) {
        const cv::Mat small = detail::downscale(detail::to_mat(video.frames[t]), options.analysis_width);
        const cv::Mat lab = detail::to_lab(small), gray = detail::to_gray(small);
        cv::Scalar step(0, 0, 0);
        if (t > 0) {
            const detail::Alignment a = detail::align(prev_gray, gray);
            if (cv::countNonZero(a.valid) > 0) {
                cv::Mat warped;
                cv::remap(prev_lab, warped, a.map, cv::Mat(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
                step = cv::mean(lab - warped, a.valid);
            } else {
                step = cv::mean(lab) - cv::mean(prev_lab);
            }
        }
        for (int c = 0; c < 3; ++c) exposure[c].push_back((t > 0 ? exposure[c].back() : 0.0) + step[c]);
        prev_lab = lab;
        prev_gray = gray;
    }
    std::vector<double> trend[3];
    for (int c = 0; c < 3; ++c) trend[c] = detail::local_linear_trend(exposure[c], options.trend_half_window);
    core::Video out;
    out.fps = video.fps;
    for (size_t t = 0; t < n; ++t) {
        const cv::Scalar offset(trend[0][t] - exposure[0][t], trend[1][t] - exposure[1][t],
                                trend[2][t] - exposure[2][t]);
        out.frames.push_back(detail::to_frame(detail::lab_to_rgb8(labs[t] + offset)));
    }
    return out;
}

}  // namespace

core::Result<core::Video> color_match(const core::Video& video, const core::Video& reference,
                                      const ColorMatchOptions& options) {
    FL_TRY(detail::check_video(reference, "reference clip"));
    const size_t n = reference.frames.size();
    const size_t used =
        options.reference_frames > 0 ? std::min(n, static_cast<size_t>(options.reference_frames)) : n;
    std::vector<cv::Mat> labs;
    for (size_t t = n - used; t < n; ++t) labs.push_back(detail::to_lab(detail::to_mat(reference.frames[t])));
    return match_to(video, pooled_stats(labs), options);
}

core::Result<core::Video> color_match(const core::Video& video, const core::Frame& reference,
                                      const ColorMatchOptions& options) {
    FL_TRY(detail::check_frame(reference, "reference image"));
    return match_to(video, stats_of(detail::to_lab(detail::to_mat(reference))), options);
}

core::Result<core::Video> deflicker(const core::Video& video, const DeflickerOptions& options) {
    FL_TRY(detail::check_video(video, "clip"));
    const size_t n = video.frames.size();
    if (n < 3) return video;
    std::vector<cv::Mat> labs(n);
    for (size_t t = 0; t < n; ++t) labs[t] = detail::to_lab(detail::to_mat(video.frames[t]));
    if (options.flow_guided) return deflicker_flow(video, labs, options);
    std::vector<LabStats> stats(n);
    for (size_t t = 0; t < n; ++t) stats[t] = stats_of(labs[t]);
    // Targets: each statistic follows its own local linear trend through the clip.
    std::vector<LabStats> target(n);
    for (int c = 0; c < 3; ++c) {
        std::vector<double> mean(n), sd(n);
        for (size_t t = 0; t < n; ++t) {
            mean[t] = stats[t].mean[c];
            sd[t] = stats[t].stddev[c];
        }
        const auto mean_trend = detail::local_linear_trend(mean, options.trend_half_window);
        const auto sd_trend = detail::local_linear_trend(sd, options.trend_half_window);
        for (size_t t = 0; t < n; ++t) {
            target[t].mean[c] = mean_trend[t];
            target[t].stddev[c] = std::max(0.0, sd_trend[t]);
        }
    }
    core::Video out;
    out.fps = video.fps;
    for (size_t t = 0; t < n; ++t)
        out.frames.push_back(detail::to_frame(
            detail::lab_to_rgb8(transfer(labs[t], stats[t], target[t], 1.0, options.max_gain))));
    return out;
}

}  // namespace fl::consistency
