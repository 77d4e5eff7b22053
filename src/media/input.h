#pragma once
/// Private to fl::media: opening a file with FFmpeg's demuxers and finding its first video stream.

#include <filesystem>

#include "frameloom/core/result.h"
#include "media/libav.h"

namespace fl::media::detail {

/// A demuxer positioned at the start of the file, with its first (non-cover-art) video stream.
struct OpenedInput {
    InputPtr format;
    int video_stream = -1;  ///< index into format->streams
};

/// Opens `path` and reads stream info. Errors: "file not found: <path>",
/// "not a video or image: <path> (<ffmpeg reason>)".
core::Result<OpenedInput> open_input(const std::filesystem::path& path);

/// True for demuxers that read one still picture from a file (image2, png_pipe, jpeg_pipe, ...).
bool is_image_demuxer(const char* name);

/// True for codecs that hold still pictures (png, mjpeg, bmp, webp, tiff, ...).
bool is_still_codec(AVCodecID id);

}  // namespace fl::media::detail
