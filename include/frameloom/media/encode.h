#pragma once
/// Encoding frames to H.264 (yuv420p) in MP4, written to a temp file and renamed on success.

#include <filesystem>

#include "frameloom/core/cancel.h"
#include "frameloom/core/frame.h"
#include "frameloom/core/result.h"

namespace fl::media {

/// Options for H.264 encoding.
struct EncodeOptions {
    int crf = 18;                         ///< quality (0 = lossless, 18 = visually lossless, 23 default)
    const char* preset = "medium";        ///< x264 preset
    core::ProgressFn progress;            ///< called per frame
    core::CancelFn cancel;                ///< checked per frame; on cancel nothing is left at the target
};

/// Encodes `video` (fps from video.fps; odd sizes are rejected) to an MP4 at `target` with faststart.
/// Errors are one line: "cannot write <target>: <reason>", "video has no frames", ...
core::Result<void> encode_mp4(const core::Video& video, const std::filesystem::path& target,
                              const EncodeOptions& options = {});

/// Writes one frame as a PNG (for thumbnails and last-frame export), atomically.
core::Result<void> write_png(const core::Frame& frame, const std::filesystem::path& target);

}  // namespace fl::media
