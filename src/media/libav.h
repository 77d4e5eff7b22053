#pragma once
/// Private to fl::media: owning handles for libav* objects and small helpers shared by probe, decode, encode.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "frameloom/core/frame.h"
#include "frameloom/core/time.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libavutil/frame.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}

namespace fl::media::detail {

/// Closes a demuxer opened with avformat_open_input.
struct InputDeleter {
    void operator()(AVFormatContext* ctx) const { avformat_close_input(&ctx); }
};
using InputPtr = std::unique_ptr<AVFormatContext, InputDeleter>;

/// Closes the muxer's file (if it opened one) and frees the muxer.
struct OutputDeleter {
    void operator()(AVFormatContext* ctx) const {
        if (ctx->oformat && !(ctx->oformat->flags & AVFMT_NOFILE)) avio_closep(&ctx->pb);
        avformat_free_context(ctx);
    }
};
using OutputPtr = std::unique_ptr<AVFormatContext, OutputDeleter>;

/// Frees a codec context (encoder or decoder).
struct CodecContextDeleter {
    void operator()(AVCodecContext* ctx) const { avcodec_free_context(&ctx); }
};
using CodecContextPtr = std::unique_ptr<AVCodecContext, CodecContextDeleter>;

/// Frees an AVFrame and its buffers.
struct FrameDeleter {
    void operator()(AVFrame* frame) const { av_frame_free(&frame); }
};
using FramePtr = std::unique_ptr<AVFrame, FrameDeleter>;

/// Frees an AVPacket and its buffer.
struct PacketDeleter {
    void operator()(AVPacket* packet) const { av_packet_free(&packet); }
};
using PacketPtr = std::unique_ptr<AVPacket, PacketDeleter>;

/// Frees a swscale context.
struct SwsDeleter {
    void operator()(SwsContext* ctx) const { sws_freeContext(ctx); }
};
using SwsPtr = std::unique_ptr<SwsContext, SwsDeleter>;

/// An options dictionary freed on scope exit (libav calls take AVDictionary** and may replace it).
class Options {
public:
    Options() = default;
    ~Options() { av_dict_free(&dict_); }
    Options(const Options&) = delete;
    Options& operator=(const Options&) = delete;
    void set(const char* key, const char* value) { av_dict_set(&dict_, key, value, 0); }
    AVDictionary** get() { return &dict_; }
    /// The first key the call did not consume (a misspelt option), or null.
    const char* unused_key() const {
        const AVDictionaryEntry* e = av_dict_get(dict_, "", nullptr, AV_DICT_IGNORE_SUFFIX);
        return e ? e->key : nullptr;
    }

private:
    AVDictionary* dict_ = nullptr;
};

/// FFmpeg's text for an error code ("Invalid data found when processing input").
inline std::string av_error_text(int err) {
    char buf[AV_ERROR_MAX_STRING_SIZE] = {};
    av_strerror(err, buf, sizeof buf);
    return buf;
}

/// A newly allocated frame of `format` and size with its own (padded, aligned) buffers; null on failure.
inline FramePtr alloc_frame(AVPixelFormat format, int width, int height) {
    FramePtr frame(av_frame_alloc());
    if (!frame) return nullptr;
    frame->format = format;
    frame->width = width;
    frame->height = height;
    if (av_frame_get_buffer(frame.get(), 0) < 0) return nullptr;
    // Zeroed, padding included: SIMD converters and encoders may read past a row's last pixel, and bytes
    // left over from earlier allocations must not reach a file (same frames, same bytes).
    for (int i = 0; i < AV_NUM_DATA_POINTERS && frame->buf[i]; ++i)
        std::memset(frame->buf[i]->data, 0, frame->buf[i]->size);
    return frame;
}

/// x264's CPU paths up to AVX2: its AVX-512 code gave different bytes for the same frames depending on
/// where the process's buffers landed (EncodeTest.SameFramesGiveSameBytes failed under ctest's argv and
/// passed with x264's assembly off or capped here), and a take must re-encode to the same file.
inline constexpr const char* kX264Params =
    "asm=MMX2,SSE,SSE2,SSE2Fast,LZCNT,SSE3,SSSE3,SSE4.2,AVX,FMA3,BMI2,AVX2";

/// Frames at or above this many pixels are encoded with the encoder's own threading; smaller ones on one
/// thread, so re-encoding identical frames gives identical bytes on any machine.
constexpr int64_t kThreadedPixels = 640 * 360;

/// Sets up a video encoder (before avcodec_open2) as every writer here does: size and pixel format, square
/// pixels, one tick per frame (pts = frame index, exact for any rational rate, 30000/1001 included), BT.709
/// limited-range tags, a keyframe every ~2 s (seeking in players and the timeline stays cheap), threads only
/// from kThreadedPixels up, and a global header where the muxer `mux` wants one.
inline void configure_video_encoder(AVCodecContext* c, const AVFormatContext* mux, int width, int height,
                                    AVPixelFormat pix_fmt, core::FrameRate fps) {
    c->width = width;
    c->height = height;
    c->pix_fmt = pix_fmt;
    c->sample_aspect_ratio = AVRational{1, 1};
    c->time_base = AVRational{static_cast<int>(fps.den), static_cast<int>(fps.num)};
    c->framerate = AVRational{static_cast<int>(fps.num), static_cast<int>(fps.den)};
    c->color_range = AVCOL_RANGE_MPEG;
    c->colorspace = AVCOL_SPC_BT709;
    c->color_primaries = AVCOL_PRI_BT709;
    c->color_trc = AVCOL_TRC_BT709;
    c->gop_size = static_cast<int>(std::clamp<double>(std::round(2.0 * fps.to_double()), 1.0, 600.0));
    c->thread_count = static_cast<int64_t>(width) * height >= kThreadedPixels ? 0 : 1;
    if (mux->oformat->flags & AVFMT_GLOBALHEADER) c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
}

/// Describes `stream` from the opened video encoder `c`: codec parameters, time base and frame rates.
/// Returns 0, or the negative AVERROR of avcodec_parameters_from_context.
inline int describe_video_stream(AVStream* stream, const AVCodecContext* c) {
    const int err = avcodec_parameters_from_context(stream->codecpar, c);
    if (err < 0) return err;
    stream->time_base = c->time_base;
    stream->avg_frame_rate = c->framerate;
    stream->r_frame_rate = c->framerate;
    return 0;
}

/// `frame` converted for a video encoder: its RGB rows copied into `rgb` (RGB24 of the frame's size), scaled
/// by `sws` into a new frame of `pix_fmt` with pts `index`, tagged BT.709 limited range; null when out of
/// memory.
inline FramePtr rgb_to_encoder_frame(SwsContext* sws, AVFrame* rgb, const core::Frame& frame,
                                     AVPixelFormat pix_fmt, int64_t index) {
    const size_t row = static_cast<size_t>(frame.width) * 3;
    for (int y = 0; y < frame.height; ++y)
        std::memcpy(rgb->data[0] + static_cast<ptrdiff_t>(rgb->linesize[0]) * y, frame.rgb.data() + row * y,
                    row);
    FramePtr yuv = alloc_frame(pix_fmt, frame.width, frame.height);
    if (!yuv) return nullptr;
    sws_scale(sws, rgb->data, rgb->linesize, 0, frame.height, yuv->data, yuv->linesize);
    yuv->pts = index;
    yuv->color_range = AVCOL_RANGE_MPEG;
    yuv->colorspace = AVCOL_SPC_BT709;
    yuv->color_primaries = AVCOL_PRI_BT709;
    yuv->color_trc = AVCOL_TRC_BT709;
    return yuv;
}

}  // namespace fl::media::detail
