#include "media/rgb_converter.h"

#include <cstring>

namespace fl::media::detail {

namespace {

/// The deprecated full-range "yuvj" formats as their plain twins (the range is passed separately).
AVPixelFormat without_jpeg_range(AVPixelFormat format, bool& full_range) {
    switch (format) {
        case AV_PIX_FMT_YUVJ420P: full_range = true; return AV_PIX_FMT_YUV420P;
        case AV_PIX_FMT_YUVJ422P: full_range = true; return AV_PIX_FMT_YUV422P;
        case AV_PIX_FMT_YUVJ444P: full_range = true; return AV_PIX_FMT_YUV444P;
        case AV_PIX_FMT_YUVJ440P: full_range = true; return AV_PIX_FMT_YUV440P;
        case AV_PIX_FMT_YUVJ411P: full_range = true; return AV_PIX_FMT_YUV411P;
        default: return format;
    }
}

/// swscale's matrix id for the stream's tagged colour space (untagged: BT.709 for HD, BT.601 below).
int sws_colorspace(AVColorSpace space, int height) {
    switch (space) {
        case AVCOL_SPC_BT709: return SWS_CS_ITU709;
        case AVCOL_SPC_FCC: return SWS_CS_FCC;
        case AVCOL_SPC_SMPTE240M: return SWS_CS_SMPTE240M;
        case AVCOL_SPC_BT2020_NCL:
        case AVCOL_SPC_BT2020_CL: return SWS_CS_BT2020;
        case AVCOL_SPC_BT470BG:
        case AVCOL_SPC_SMPTE170M: return SWS_CS_ITU601;
        default: return height >= 720 ? SWS_CS_ITU709 : SWS_CS_ITU601;
    }
}

void copy_rows(const uint8_t* src, int src_stride, int width, int height, core::Frame& out) {
    const size_t row = static_cast<size_t>(width) * 3;
    for (int y = 0; y < height; ++y) std::memcpy(out.rgb.data() + row * y, src + static_cast<ptrdiff_t>(src_stride) * y, row);
}

}  // namespace

core::Result<core::Frame> RgbConverter::convert(const AVFrame& src, int out_width, int out_height) {
    if (out_width <= 0 || out_height <= 0) {
        out_width = src.width;
        out_height = src.height;
    }
    core::Frame out(out_width, out_height);
    const auto src_format = static_cast<AVPixelFormat>(src.format);
    if (src_format == AV_PIX_FMT_RGB24 && out_width == src.width && out_height == src.height) {
        copy_rows(src.data[0], src.linesize[0], src.width, src.height, out);  // exact, no swscale rounding
        return out;
    }

    bool full_range = src.color_range == AVCOL_RANGE_JPEG;
    const AVPixelFormat format = without_jpeg_range(src_format, full_range);
    const Key key{src.width, src.height, format, sws_colorspace(src.colorspace, src.height), full_range ? 1 : 0,
                  out_width, out_height};
    if (!sws_ || !(key == key_)) {
        // Accurate rounding and full chroma interpolation: the generic path, not the fast approximate one.
        const int flags = SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT;
        sws_.reset(sws_getContext(src.width, src.height, format, out_width, out_height, AV_PIX_FMT_RGB24, flags,
                                  nullptr, nullptr, nullptr));
        if (!sws_) {
            const char* name = av_get_pix_fmt_name(src_format);
            return core::fail(std::string("cannot convert pixel format ") + (name ? name : "unknown") + " to RGB");
        }
        const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(format);
        if (desc && !(desc->flags & AV_PIX_FMT_FLAG_RGB))
            sws_setColorspaceDetails(sws_.get(), sws_getCoefficients(key.colorspace), key.full_range,
                                     sws_getCoefficients(SWS_CS_DEFAULT), 1, 0, 1 << 16, 1 << 16);
        rgb_ = alloc_frame(AV_PIX_FMT_RGB24, out_width, out_height);
        if (!rgb_) return core::fail("out of memory converting a frame to RGB");
        key_ = key;
    }
    const int rows = sws_scale(sws_.get(), src.data, src.linesize, 0, src.height, rgb_->data, rgb_->linesize);
    if (rows != out_height) return core::fail("cannot convert a decoded frame to RGB");
    copy_rows(rgb_->data[0], rgb_->linesize[0], out_width, out_height, out);
    return out;
}

}  // namespace fl::media::detail
