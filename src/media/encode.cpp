#include "frameloom/media/encode.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <string>

#include "frameloom/core/atomic_file.h"
#include "media/libav.h"

extern "C" {
#include <libavutil/opt.h>
}

namespace fl::media {
namespace fs = std::filesystem;

namespace {

/// Size, rate and buffer checks that need no FFmpeg; each error is one line.
core::Result<void> check_video(const core::Video& video, const EncodeOptions& options) {
    if (video.frames.empty()) return core::fail("video has no frames");
    const core::FrameRate fps = video.fps;
    if (fps.num <= 0 || fps.den <= 0 || fps.num > INT_MAX || fps.den > INT_MAX)
        return core::fail("invalid frame rate " + core::to_string(fps) +
                          ": use a positive rate such as 24 or 30000/1001");
    const int width = video.width(), height = video.height();
    if (width <= 0 || height <= 0) return core::fail("frame 0 is empty (0x0)");
    if (width % 2 != 0 || height % 2 != 0)
        return core::fail("H.264 yuv420p needs even sizes: got " + std::to_string(width) + "x" +
                          std::to_string(height) + " (crop or pad to an even width and height)");
    for (size_t i = 0; i < video.frames.size(); ++i) {
        const core::Frame& f = video.frames[i];
        if (f.width != width || f.height != height)
            return core::fail("frame " + std::to_string(i) + " is " + std::to_string(f.width) + "x" +
                              std::to_string(f.height) + " but frame 0 is " + std::to_string(width) + "x" +
                              std::to_string(height) + " (all frames of a video must have one size)");
        if (f.rgb.size() != static_cast<size_t>(width) * height * 3)
            return core::fail("frame " + std::to_string(i) + " holds " + std::to_string(f.rgb.size()) +
                              " bytes, expected width x height x 3 = " +
                              std::to_string(static_cast<size_t>(width) * height * 3));
    }
    if (options.crf < 0 || options.crf > 51)
        return core::fail("crf " + std::to_string(options.crf) + " is out of range (0 = lossless .. 51)");
    return core::ok();
}

/// One encode: the muxer writing the temp file, the x264 encoder and the RGB→YUV converter.
class Mp4Encoder {
public:
    Mp4Encoder(const fs::path& target, const fs::path& temp) : target_(target), temp_(temp) {}

    core::Result<void> open(int width, int height, core::FrameRate fps, const EncodeOptions& options) {
        const AVCodec* encoder = avcodec_find_encoder_by_name("libx264");
        if (!encoder) return fail("this FFmpeg has no libx264 encoder");

        AVFormatContext* raw = nullptr;
        // The temp name keeps the extension, but say "mp4" outright rather than rely on guessing.
        int err = avformat_alloc_output_context2(&raw, nullptr, "mp4", temp_.c_str());
        if (err < 0 || !raw) return fail("cannot set up the MP4 muxer", err);
        mux_.reset(raw);

        codec_.reset(avcodec_alloc_context3(encoder));
        if (!codec_) return fail("out of memory");
        AVCodecContext* c = codec_.get();
        detail::configure_video_encoder(c, mux_.get(), width, height, AV_PIX_FMT_YUV420P, fps);
        c->chroma_sample_location = AVCHROMA_LOC_LEFT;

        const std::string preset = options.preset && *options.preset ? options.preset : "medium";
        detail::Options x264;
        x264.set("preset", preset.c_str());
        x264.set("crf", std::to_string(options.crf).c_str());
        x264.set("x264-params", detail::kX264Params);
        err = avcodec_open2(c, encoder, x264.get());
        if (err < 0)
            return fail("x264 refused preset '" + preset + "' or crf " + std::to_string(options.crf), err);

        stream_ = avformat_new_stream(mux_.get(), nullptr);
        if (!stream_) return fail("out of memory");
        err = detail::describe_video_stream(stream_, c);
        if (err < 0) return fail("cannot describe the video stream", err);

        err = avio_open(&mux_->pb, temp_.c_str(), AVIO_FLAG_WRITE);
        if (err < 0) return fail(detail::av_error_text(err));
        detail::Options mux_options;
        mux_options.set("movflags", "+faststart");  // index first, so players start before the download ends
        err = avformat_write_header(mux_.get(), mux_options.get());
        if (err < 0) return fail("cannot write the MP4 header", err);

        sws_.reset(sws_getContext(width, height, AV_PIX_FMT_RGB24, width, height, AV_PIX_FMT_YUV420P,
                                  SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INP, nullptr, nullptr,
                                  nullptr));
        if (!sws_) return fail("cannot set up RGB to YUV conversion");
        // RGB is full range; the output is BT.709 limited range, as tagged above.
        sws_setColorspaceDetails(sws_.get(), sws_getCoefficients(SWS_CS_ITU709), 1,
                                 sws_getCoefficients(SWS_CS_ITU709), 0, 0, 1 << 16, 1 << 16);
        rgb_ = detail::alloc_frame(AV_PIX_FMT_RGB24, width, height);
        packet_.reset(av_packet_alloc());
        if (!rgb_ || !packet_) return fail("out of memory");
        return core::ok();
    }

    core::Result<void> add(const core::Frame& frame, int64_t index) {
        detail::FramePtr yuv =
            detail::rgb_to_encoder_frame(sws_.get(), rgb_.get(), frame, AV_PIX_FMT_YUV420P, index);
        if (!yuv) return fail("out of memory");
        yuv->chroma_location = AVCHROMA_LOC_LEFT;
        const int err = avcodec_send_frame(codec_.get(), yuv.get());
        if (err < 0) return fail("x264 failed on frame " + std::to_string(index), err);
        return drain();
    }

    /// Flushes the encoder, writes the index (moved to the front) and closes the temp file.
    core::Result<void> finish() {
        int err = avcodec_send_frame(codec_.get(), nullptr);
        if (err < 0) return fail("x264 failed to flush", err);
        FL_TRY(drain());
        err = av_write_trailer(mux_.get());
        if (err < 0) return fail("cannot finish the MP4", err);
        err = avio_closep(&mux_->pb);
        if (err < 0) return fail(detail::av_error_text(err));
        return core::ok();
    }

private:
    /// Moves every packet the encoder has ready into the muxer.
    core::Result<void> drain() {
        while (true) {
            int err = avcodec_receive_packet(codec_.get(), packet_.get());
            if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return core::ok();
            if (err < 0) return fail("x264 failed", err);
            packet_->stream_index = stream_->index;
            if (packet_->duration <= 0)
                packet_->duration = 1;  // every frame lasts one tick, the last one too
            av_packet_rescale_ts(packet_.get(), codec_->time_base, stream_->time_base);
            err = av_interleaved_write_frame(mux_.get(), packet_.get());  // takes the packet's reference
            if (err < 0) return fail(detail::av_error_text(err));
        }
    }

    core::Error fail(const std::string& why) const {
        return core::fail("cannot write " + target_.string() + ": " + why);
    }
    core::Error fail(const std::string& what, int err) const {
        return fail(what + " (" + detail::av_error_text(err) + ")");
    }

    fs::path target_;
    fs::path temp_;
    detail::OutputPtr mux_;
    detail::CodecContextPtr codec_;
    AVStream* stream_ = nullptr;  // owned by mux_
    detail::SwsPtr sws_;
    detail::FramePtr rgb_;
    detail::PacketPtr packet_;
};

}  // namespace

core::Result<void> encode_mp4(const core::Video& video, const fs::path& target,
                              const EncodeOptions& options) {
    FL_TRY(check_video(video, options));
    // Declared before the encoder so the muxer closes the temp file before PendingFile removes it.
    auto pending = core::PendingFile::create(target);
    if (!pending) return pending.error();
    {
        Mp4Encoder encoder(target, pending->temp_path());
        FL_TRY(encoder.open(video.width(), video.height(), video.fps, options));
        const int64_t total = video.frame_count();
        for (int64_t i = 0; i < total; ++i) {
            if (options.cancel && options.cancel()) return core::fail(core::kCancelledMessage);
            FL_TRY(encoder.add(video.frames[static_cast<size_t>(i)], i));
            if (options.progress) options.progress(i + 1, total, "encoding");
        }
        if (options.cancel && options.cancel()) return core::fail(core::kCancelledMessage);
        FL_TRY(encoder.finish());
    }
    return pending->commit();
}

}  // namespace fl::media
