#pragma once
/// Decoding any common video or image into RGB frames.

#include <cstdint>
#include <filesystem>
#include <memory>

#include "frameloom/core/cancel.h"
#include "frameloom/core/frame.h"
#include "frameloom/core/result.h"
#include "frameloom/media/probe.h"

namespace fl::media {

/// Options for whole-file decoding.
struct DecodeOptions {
    int64_t max_frames = -1;  ///< stop after this many frames (-1 = all)
    int width = 0;            ///< scale to this size when both > 0 (bicubic)
    int height = 0;
    core::CancelFn cancel;
};

/// Decodes every frame of the first video stream (an image gives one frame; fps from the file).
core::Result<core::Video> decode_video(const std::filesystem::path& path, const DecodeOptions& options = {});

/// Decodes a still image (or the first frame of a video).
core::Result<core::Frame> decode_image(const std::filesystem::path& path);

/// Sequential reader with seeking, for players.
class VideoReader {
public:
    static core::Result<std::unique_ptr<VideoReader>> open(const std::filesystem::path& path);
    virtual ~VideoReader() = default;
    virtual const MediaInfo& info() const = 0;
    /// Next frame in presentation order; error at end of stream ("end of stream").
    virtual core::Result<core::Frame> read_next() = 0;
    /// Positions the reader so the next read_next() returns frame `index` (frame-exact).
    virtual core::Result<void> seek(int64_t index) = 0;
    /// Index of the frame the next read_next() returns.
    virtual int64_t position() const = 0;
};

}  // namespace fl::media
