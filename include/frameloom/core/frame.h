#pragma once
/// The frame and video buffers that cross module lines (no torch::Tensor, cv::Mat or AVFrame here).

#include <cstdint>
#include <vector>

#include "frameloom/core/time.h"

namespace fl::core {

/// One RGB picture, 8 bits per channel, interleaved RGBRGB..., rows tightly packed (stride = 3·width).
struct Frame {
    int width = 0;
    int height = 0;
    std::vector<uint8_t> rgb;  // size 3·width·height

    Frame() = default;
    Frame(int w, int h) : width(w), height(h), rgb(static_cast<size_t>(w) * h * 3, 0) {}
    uint8_t* pixel(int x, int y) { return rgb.data() + (static_cast<size_t>(y) * width + x) * 3; }
    const uint8_t* pixel(int x, int y) const { return rgb.data() + (static_cast<size_t>(y) * width + x) * 3; }
    bool empty() const { return rgb.empty(); }
};

/// A clip held in memory: frames of one size at one rate.
struct Video {
    std::vector<Frame> frames;
    FrameRate fps{16, 1};

    int width() const { return frames.empty() ? 0 : frames.front().width; }
    int height() const { return frames.empty() ? 0 : frames.front().height; }
    int64_t frame_count() const { return static_cast<int64_t>(frames.size()); }
    double duration_seconds() const { return static_cast<double>(frames.size()) / fps.to_double(); }
};

}  // namespace fl::core
