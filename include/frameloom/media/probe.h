#pragma once
/// What a media file holds, read with FFmpeg's demuxers.

#include <cstdint>
#include <filesystem>
#include <string>

#include "frameloom/core/result.h"
#include "frameloom/core/time.h"

namespace fl::media {

/// Facts about a file's first video stream (and whether it has audio).
struct MediaInfo {
    std::string path;
    std::string container;      ///< e.g. "mov,mp4,m4a,3gp,3g2,mj2", "png_pipe"
    std::string video_codec;    ///< e.g. "h264"
    std::string pixel_format;   ///< e.g. "yuv420p"
    int width = 0;
    int height = 0;
    core::FrameRate fps{0, 1};  ///< average frame rate (images: 0/1 → treat as a still)
    int64_t frame_count = 0;    ///< counted exactly when the container does not say
    double duration_seconds = 0.0;
    bool has_audio = false;
    bool is_image = false;      ///< a single still picture (png, jpg, ...)
};

/// Opens the file and describes it. "not a video or image: <path> (...)" when FFmpeg can't read it.
core::Result<MediaInfo> probe(const std::filesystem::path& path);

/// Human-readable multi-line description for `frameloom probe`.
std::string describe(const MediaInfo& info);

/// FFmpeg logs to stderr process-wide (its own global); composition roots call this once:
/// false silences all but fatal messages (our errors already carry FFmpeg's reason), true lets its info through.
void set_ffmpeg_verbose(bool verbose);

}  // namespace fl::media
