#include "consistency/cv_util.h"

#include <algorithm>
#include <cstring>
#include <opencv2/imgproc.hpp>
#include <opencv2/video/tracking.hpp>
#include <string>

namespace fl::consistency::detail {

cv::Mat to_mat(const core::Frame& frame) {
    cv::Mat m(frame.height, frame.width, CV_8UC3);
    std::memcpy(m.data, frame.rgb.data(), frame.rgb.size());
    return m;
}

core::Frame to_frame(const cv::Mat& rgb8) {
    core::Frame f(rgb8.cols, rgb8.rows);
    const cv::Mat packed = rgb8.isContinuous() ? rgb8 : rgb8.clone();
    std::memcpy(f.rgb.data(), packed.data, f.rgb.size());
    return f;
}

cv::Mat to_lab(const cv::Mat& rgb8) {
    cv::Mat f, lab;
    rgb8.convertTo(f, CV_32FC3, 1.0 / 255.0);
    cv::cvtColor(f, lab, cv::COLOR_RGB2Lab);
    return lab;
}

cv::Mat lab_to_rgb8(const cv::Mat& lab) {
    cv::Mat f, out;
    cv::cvtColor(lab, f, cv::COLOR_Lab2RGB);
    f.convertTo(out, CV_8UC3, 255.0);  // saturate_cast clamps to [0, 255]
    return out;
}

cv::Mat downscale(const cv::Mat& image, int max_width) {
    if (max_width <= 0 || image.cols <= max_width) return image;
    const int h =
        std::max(1, static_cast<int>(std::lround(image.rows * static_cast<double>(max_width) / image.cols)));
    cv::Mat out;
    cv::resize(image, out, cv::Size(max_width, h), 0, 0, cv::INTER_AREA);
    return out;
}

cv::Mat to_gray(const cv::Mat& rgb8) {
    cv::Mat g;
    cv::cvtColor(rgb8, g, cv::COLOR_RGB2GRAY);
    return g;
}

core::Result<void> check_frame(const core::Frame& frame, const char* what) {
    if (frame.width <= 0 || frame.height <= 0) return core::fail(std::string(what) + " is empty");
    if (frame.rgb.size() != static_cast<size_t>(frame.width) * frame.height * 3)
        return core::fail(std::string(what) + " has " + std::to_string(frame.rgb.size()) + " bytes for " +
                          std::to_string(frame.width) + "x" + std::to_string(frame.height) + " RGB");
    return core::ok();
}

core::Result<void> check_video(const core::Video& video, const char* what) {
    if (video.frames.empty()) return core::fail(std::string(what) + " has no frames");
    for (size_t i = 0; i < video.frames.size(); ++i) {
        const auto& f = video.frames[i];
        const std::string name = std::string(what) + " frame " + std::to_string(i);
        FL_TRY(check_frame(f, name.c_str()));
        if (f.width != video.width() || f.height != video.height())
            return core::fail(name + " is " + std::to_string(f.width) + "x" + std::to_string(f.height) +
                              ", the first is " + std::to_string(video.width()) + "x" +
                              std::to_string(video.height()));
    }
    return core::ok();
}

Lab mean_lab(const cv::Mat& lab, const cv::Mat& mask) {
    const cv::Scalar m = cv::mean(lab, mask);
    return {m[0], m[1], m[2]};
}

cv::Mat farneback(const cv::Mat& to_gray, const cv::Mat& from_gray) {
    cv::Mat flow;
    cv::calcOpticalFlowFarneback(to_gray, from_gray, flow, 0.5, 3, 15, 3, 5, 1.2, 0);
    return flow;
}

Alignment align(const cv::Mat& prev_gray, const cv::Mat& next_gray) {
    const cv::Mat fwd = farneback(next_gray, prev_gray);  // next(x) ≈ prev(x + fwd(x))
    const cv::Mat bwd = farneback(prev_gray, next_gray);  // prev(y) ≈ next(y + bwd(y))
    const int w = next_gray.cols, h = next_gray.rows;
    Alignment a;
    a.map.create(h, w, CV_32FC2);
    for (int y = 0; y < h; ++y) {
        const auto* f = fwd.ptr<cv::Vec2f>(y);
        auto* m = a.map.ptr<cv::Vec2f>(y);
        for (int x = 0; x < w; ++x)
            m[x] = cv::Vec2f(static_cast<float>(x) + f[x][0], static_cast<float>(y) + f[x][1]);
    }
    cv::Mat bwd_at;
    cv::remap(bwd, bwd_at, a.map, cv::Mat(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
    a.valid = cv::Mat(h, w, CV_8U, cv::Scalar(0));
    for (int y = 0; y < h; ++y) {
        const auto* f = fwd.ptr<cv::Vec2f>(y);
        const auto* b = bwd_at.ptr<cv::Vec2f>(y);
        const auto* m = a.map.ptr<cv::Vec2f>(y);
        auto* v = a.valid.ptr<uchar>(y);
        for (int x = 0; x < w; ++x) {
            if (m[x][0] < 0 || m[x][1] < 0 || m[x][0] > w - 1 || m[x][1] > h - 1) continue;
            const cv::Vec2f s = f[x] + b[x];
            const double lhs = s.dot(s), rhs = 0.01 * (f[x].dot(f[x]) + b[x].dot(b[x])) + 0.5;
            v[x] = lhs < rhs ? 255 : 0;
        }
    }
    return a;
}

std::vector<double> local_linear_trend(const std::vector<double>& values, int half_window) {
    const int n = static_cast<int>(values.size());
    std::vector<double> trend(values.size());
    const int h = std::max(1, half_window);
    for (int i = 0; i < n; ++i) {
        const int lo = std::max(0, i - h), hi = std::min(n - 1, i + h);
        double st = 0, sv = 0, stt = 0, stv = 0;
        const double count = hi - lo + 1;
        for (int t = lo; t <= hi; ++t) {
            st += t;
            sv += values[static_cast<size_t>(t)];
            stt += static_cast<double>(t) * t;
            stv += t * values[static_cast<size_t>(t)];
        }
        const double denom = count * stt - st * st;
        if (count < 2 || denom == 0) {
            trend[static_cast<size_t>(i)] = sv / count;
            continue;
        }
        const double slope = (count * stv - st * sv) / denom;
        const double intercept = (sv - slope * st) / count;
        trend[static_cast<size_t>(i)] = intercept + slope * i;
    }
    return trend;
}

}  // namespace fl::consistency::detail
