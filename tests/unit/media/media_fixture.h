#pragma once
/// Shared helpers for the media tests: a scratch folder and synthetic clips made with our own encoder.

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "frameloom/core/frame.h"
#include "frameloom/media/probe.h"
#include "support/temp_dir.h"

namespace fl::media::testing {

using TempDir = fl::test::TempDir;

/// A smooth gradient that drifts a few pixels per frame (easy for H.264, so errors stay small).
inline core::Video gradient_video(int width, int height, int frames, core::FrameRate fps) {
    core::Video video;
    video.fps = fps;
    for (int t = 0; t < frames; ++t) {
        core::Frame f(width, height);
        for (int y = 0; y < height; ++y)
            for (int x = 0; x < width; ++x) {
                uint8_t* p = f.pixel(x, y);
                p[0] = static_cast<uint8_t>(128 + 90 * std::sin((x + 2.0 * t) / 11.0));
                p[1] = static_cast<uint8_t>(128 + 90 * std::cos((y + 1.5 * t) / 9.0));
                p[2] = static_cast<uint8_t>(40 + 2 * x + y + 3 * t);
            }
        video.frames.push_back(std::move(f));
    }
    return video;
}

/// Mean absolute difference over every channel of two frames of one size.
inline double mean_abs_error(const core::Frame& a, const core::Frame& b) {
    double sum = 0;
    for (size_t i = 0; i < a.rgb.size(); ++i) sum += std::abs(int{a.rgb[i]} - int{b.rgb[i]});
    return a.rgb.empty() ? 0.0 : sum / static_cast<double>(a.rgb.size());
}

/// Whole file as bytes.
inline std::string read_bytes(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Keeps FFmpeg's informational chatter (x264 stats, probe warnings) out of the test log.
class MediaTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() { set_ffmpeg_verbose(false); }
};

}  // namespace fl::media::testing
