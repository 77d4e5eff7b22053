#pragma once
/// The audio buffer that crosses module lines (no AVFrame here): interleaved float PCM.

#include <cstdint>
#include <vector>

namespace fl::core {

/// Sound held in memory: `channels` interleaved float samples in [-1, 1] at `sample_rate` per second.
struct Audio {
    int sample_rate = 48000;
    int channels = 2;
    std::vector<float> samples;  ///< size = frame_count() · channels

    /// Samples per channel.
    int64_t frame_count() const { return channels > 0 ? static_cast<int64_t>(samples.size()) / channels : 0; }
    double duration_seconds() const {
        return sample_rate > 0 ? static_cast<double>(frame_count()) / sample_rate : 0.0;
    }
};

}  // namespace fl::core
