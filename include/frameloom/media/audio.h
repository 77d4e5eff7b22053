#pragma once
/// Audio in and out: decoding any FFmpeg-readable file to float PCM, WAV writing, and the music synthesiser.

#include <cstdint>
#include <filesystem>

#include "frameloom/core/audio.h"
#include "frameloom/core/cancel.h"
#include "frameloom/core/result.h"

namespace fl::media {

/// What decode_audio produces.
struct AudioDecodeOptions {
    int sample_rate = 48000;  ///< resampled to this rate
    int channels = 2;         ///< mixed up or down to this many channels (1 or 2)
    core::CancelFn cancel;
};

/// Decodes the first audio stream of any file FFmpeg reads (WAV, MP3, AAC, MP4, ...) to interleaved float
/// PCM at the chosen rate. Errors: "file not found: <path>", "no audio stream in <path>", ...
core::Result<core::Audio> decode_audio(const std::filesystem::path& path, const AudioDecodeOptions& options = {});

/// Length of the first audio stream in seconds, from the container (no decoding), for placing an audio
/// file on the timeline (core::make_add_audio_clip takes frames: core::frames_for_seconds(seconds, fps)).
/// Decodes the file to measure it only when the container does not say.
core::Result<double> probe_audio_seconds(const std::filesystem::path& path);

/// Writes 16-bit PCM WAV (clipped to [-1, 1]) atomically.
core::Result<void> write_wav(const core::Audio& audio, const std::filesystem::path& target);

/// Settings of the music synthesiser.
struct MusicOptions {
    double seconds = 10.0;    ///< length of the piece
    uint64_t seed = 0;        ///< picks key, progression order and arpeggio pattern
    int sample_rate = 48000;
    double bpm = 96.0;        ///< one chord per bar of four beats; eighth-note arpeggios over it
};

/// A small piece of music made by the project: a four-chord progression (pads + arpeggio + bass) in a key
/// chosen by the seed, with a fade at both ends. Stereo, deterministic for a seed.
core::Audio synthesize_music(const MusicOptions& options);

}  // namespace fl::media
