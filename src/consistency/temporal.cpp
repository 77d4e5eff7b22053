#include "frameloom/consistency/temporal.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "consistency/cv_util.h"

namespace fl::consistency {
namespace {

/// Warping error of one pair: `prev` warped onto `next` along the flow, compared where the flow is
/// forward-backward consistent and lands inside the frame, after removing the mean colour change.
double pair_warp_error(const cv::Mat& prev_rgb, const cv::Mat& next_rgb, const cv::Mat& prev_gray,
                       const cv::Mat& next_gray) {
    const detail::Alignment a = detail::align(prev_gray, next_gray);
    if (cv::countNonZero(a.valid) == 0) return 0.0;
    cv::Mat prev_f, next_f, warped;
    prev_rgb.convertTo(prev_f, CV_32FC3);
    next_rgb.convertTo(next_f, CV_32FC3);
    cv::remap(prev_f, warped, a.map, cv::Mat(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
    cv::Mat diff = warped - next_f;  // 8-bit levels, per channel
    const cv::Scalar offset = cv::mean(diff, a.valid);
    diff -= offset;
    const cv::Scalar err = cv::mean(cv::abs(diff), a.valid);
    return (err[0] + err[1] + err[2]) / 3.0;
}

/// Per-channel median of a float L*a*b* image.
Lab median_lab(const cv::Mat& lab) {
    std::vector<float> ch[3];
    for (auto& c : ch) c.reserve(lab.total());
    for (int y = 0; y < lab.rows; ++y) {
        const auto* p = lab.ptr<cv::Vec3f>(y);
        for (int x = 0; x < lab.cols; ++x)
            for (int c = 0; c < 3; ++c) ch[c].push_back(p[x][c]);
    }
    double out[3];
    for (int c = 0; c < 3; ++c) {
        auto mid = ch[c].begin() + static_cast<std::ptrdiff_t>(ch[c].size() / 2);
        std::nth_element(ch[c].begin(), mid, ch[c].end());
        out[c] = *mid;
    }
    return {out[0], out[1], out[2]};
}

}  // namespace

core::Result<TemporalMetrics> measure_temporal(const core::Video& video, const TemporalOptions& options) {
    FL_TRY(detail::check_video(video, "clip"));
    const size_t n = video.frames.size();
    TemporalMetrics m;
    m.flicker_curve.assign(n, 0.0);
    m.warp_curve.assign(n, 0.0);
    m.score_curve.assign(n, 1.0);
    m.mean_lab.resize(n);
    std::vector<Lab> median(n);

    std::vector<cv::Mat> rgb(2), gray(2);
    for (size_t t = 0; t < n; ++t) {
        cv::Mat small = detail::downscale(detail::to_mat(video.frames[t]), options.analysis_width);
        const cv::Mat lab = detail::to_lab(small);
        m.mean_lab[t] = detail::mean_lab(lab);
        median[t] = median_lab(lab);
        rgb[t % 2] = small;
        gray[t % 2] = detail::to_gray(small);
        if (t > 0)
            m.warp_curve[t] = pair_warp_error(rgb[(t - 1) % 2], rgb[t % 2], gray[(t - 1) % 2], gray[t % 2]);
    }

    // Flicker: detrend each channel of the mean colour, then average the frame-to-frame residual change.
    std::vector<double> channel[3];
    for (const Lab& c : m.mean_lab) {
        channel[0].push_back(c.L);
        channel[1].push_back(c.a);
        channel[2].push_back(c.b);
    }
    std::vector<double> residual[3];
    for (int c = 0; c < 3; ++c) {
        const auto trend = detail::local_linear_trend(channel[c], options.trend_half_window);
        for (size_t t = 0; t < n; ++t) residual[c].push_back(channel[c][t] - trend[t]);
    }
    double flicker_sum = 0, warp_sum = 0;
    for (size_t t = 1; t < n; ++t) {
        const Lab r0{residual[0][t - 1], residual[1][t - 1], residual[2][t - 1]};
        const Lab r1{residual[0][t], residual[1][t], residual[2][t]};
        m.flicker_curve[t] = delta_e_76(r0, r1);
        flicker_sum += m.flicker_curve[t];
        warp_sum += m.warp_curve[t];
        m.warp_error_max = std::max(m.warp_error_max, m.warp_curve[t]);
    }
    if (n > 1) {
        m.flicker = flicker_sum / static_cast<double>(n - 1);
        m.warp_error = warp_sum / static_cast<double>(n - 1);
    }
    for (size_t t = 0; t < n; ++t)
        m.score_curve[t] = 1.0 / (1.0 + m.flicker_curve[t] / kFlickerScale + m.warp_curve[t] / kWarpScale);

    // Drift: the straight-line fit of the median colour over the whole clip, first frame against last.
    // The median follows the backdrop and the grade, not a subject that changes or moves.
    if (n > 1) {
        for (int c = 0; c < 3; ++c) channel[c].clear();
        for (const Lab& c : median) {
            channel[0].push_back(c.L);
            channel[1].push_back(c.a);
            channel[2].push_back(c.b);
        }
        const int whole = static_cast<int>(n);
        Lab first, last;
        double* f[3] = {&first.L, &first.a, &first.b};
        double* l[3] = {&last.L, &last.a, &last.b};
        for (int c = 0; c < 3; ++c) {
            const auto line = detail::local_linear_trend(channel[c], whole);
            *f[c] = line.front();
            *l[c] = line.back();
        }
        m.drift = delta_e_2000(first, last);
    }
    return m;
}

}  // namespace fl::consistency
