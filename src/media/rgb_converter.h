#pragma once
/// Private to fl::media: decoded pictures (any pixel format) to packed RGB24 frames via swscale.

#include "frameloom/core/frame.h"
#include "frameloom/core/result.h"
#include "media/libav.h"

namespace fl::media::detail {

/// Converts decoded AVFrames to core::Frame (RGB24), honouring the source's colour matrix and range;
/// bicubic when the size changes. Keeps its swscale context between frames of one stream.
class RgbConverter {
public:
    /// `src` to an RGB frame of out_width x out_height (0 x 0 keeps the source size).
    core::Result<core::Frame> convert(const AVFrame& src, int out_width, int out_height);

private:
    struct Key {
        int src_width = 0, src_height = 0, src_format = -1, colorspace = -1, full_range = -1;
        int dst_width = 0, dst_height = 0;
        bool operator==(const Key&) const = default;
    };
    Key key_;
    SwsPtr sws_;
    FramePtr rgb_;  // padded, aligned scratch target for swscale
};

}  // namespace fl::media::detail
