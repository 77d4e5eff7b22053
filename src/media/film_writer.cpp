#include "media/film_writer.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace fl::media::detail {

core::Result<void> FilmWriter::open(const FilmSettings& s) {
    const bool mp4 = s.mp4;
    const int width = s.width, height = s.height, rate = s.audio_rate;
    const core::FrameRate fps = s.fps;
    const char* vname = mp4 ? "libx264" : "prores_ks";
    const char* aname = mp4 ? "aac" : "pcm_s16le";
    const AVCodec* vcodec = avcodec_find_encoder_by_name(vname);
    if (!vcodec) return fail(std::string("this FFmpeg has no ") + vname + " encoder");
    const AVCodec* acodec = avcodec_find_encoder_by_name(aname);
    if (!acodec) return fail(std::string("this FFmpeg has no ") + aname + " encoder");

    AVFormatContext* raw = nullptr;
    int err = avformat_alloc_output_context2(&raw, nullptr, mp4 ? "mp4" : "mov", temp_.c_str());
    if (err < 0 || !raw) return fail("cannot set up the muxer", err);
    mux_.reset(raw);

    // Video.
    video_.reset(avcodec_alloc_context3(vcodec));
    if (!video_) return fail("out of memory");
    AVCodecContext* v = video_.get();
    pix_fmt_ = mp4 ? AV_PIX_FMT_YUV420P : AV_PIX_FMT_YUV422P10LE;
    configure_video_encoder(v, mux_.get(), width, height, pix_fmt_, fps);
    Options vopts;
    if (mp4) {
        vopts.set("preset", s.preset.empty() ? "medium" : s.preset.c_str());
        vopts.set("crf", std::to_string(s.crf).c_str());
        vopts.set("x264-params", kX264Params);
    } else {
        vopts.set("profile", "standard");  // ProRes 422
        vopts.set("vendor", "apl0");
    }
    err = avcodec_open2(v, vcodec, vopts.get());
    if (err < 0) return fail(std::string("the ") + vname + " encoder refused the settings", err);
    vstream_ = avformat_new_stream(mux_.get(), nullptr);
    if (!vstream_) return fail("out of memory");
    err = describe_video_stream(vstream_, v);
    if (err < 0) return fail("cannot describe the video stream", err);

    // Audio: stereo at `rate`.
    audio_.reset(avcodec_alloc_context3(acodec));
    if (!audio_) return fail("out of memory");
    AVCodecContext* a = audio_.get();
    a->sample_rate = rate;
    a->sample_fmt = mp4 ? AV_SAMPLE_FMT_FLTP : AV_SAMPLE_FMT_S16;
    av_channel_layout_default(&a->ch_layout, 2);
    a->time_base = AVRational{1, rate};
    if (mp4) a->bit_rate = 192000;
    if (mux_->oformat->flags & AVFMT_GLOBALHEADER) a->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    err = avcodec_open2(a, acodec, nullptr);
    if (err < 0) return fail(std::string("the ") + aname + " encoder refused the settings", err);
    audio_frame_size_ = a->frame_size > 0 ? a->frame_size : 1024;
    small_last_ = a->frame_size <= 0 || (acodec->capabilities & AV_CODEC_CAP_SMALL_LAST_FRAME) ||
                  (acodec->capabilities & AV_CODEC_CAP_VARIABLE_FRAME_SIZE);
    astream_ = avformat_new_stream(mux_.get(), nullptr);
    if (!astream_) return fail("out of memory");
    err = avcodec_parameters_from_context(astream_->codecpar, a);
    if (err < 0) return fail("cannot describe the audio stream", err);
    astream_->time_base = a->time_base;

    err = avio_open(&mux_->pb, temp_.c_str(), AVIO_FLAG_WRITE);
    if (err < 0) return fail(av_error_text(err));
    Options mux_options;
    mux_options.set("movflags", "+faststart");
    err = avformat_write_header(mux_.get(), mux_options.get());
    if (err < 0) return fail("cannot write the header", err);

    sws_.reset(sws_getContext(width, height, AV_PIX_FMT_RGB24, width, height, pix_fmt_,
                              SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INP, nullptr, nullptr,
                              nullptr));
    if (!sws_) return fail("cannot set up RGB to YUV conversion");
    sws_setColorspaceDetails(sws_.get(), sws_getCoefficients(SWS_CS_ITU709), 1,
                             sws_getCoefficients(SWS_CS_ITU709), 0, 0, 1 << 16, 1 << 16);
    rgb_ = alloc_frame(AV_PIX_FMT_RGB24, width, height);
    packet_.reset(av_packet_alloc());
    if (!rgb_ || !packet_) return fail("out of memory");
    return core::ok();
}

core::Result<void> FilmWriter::add_video(const core::Frame& frame, int64_t index) {
    FramePtr yuv = rgb_to_encoder_frame(sws_.get(), rgb_.get(), frame, pix_fmt_, index);
    if (!yuv) return fail("out of memory");
    const int err = avcodec_send_frame(video_.get(), yuv.get());
    if (err < 0) return fail("the video encoder failed on frame " + std::to_string(index), err);
    return drain(video_.get(), vstream_);
}

core::Result<void> FilmWriter::add_audio(const float* samples, int64_t count) {
    pending_.insert(pending_.end(), samples, samples + count * 2);
    while (static_cast<int64_t>(pending_.size()) >= 2LL * audio_frame_size_)
        FL_TRY(encode_audio(audio_frame_size_));
    return core::ok();
}

core::Result<void> FilmWriter::finish() {
    if (!pending_.empty()) {
        const int left = static_cast<int>(pending_.size() / 2);
        if (!small_last_)
            pending_.resize(static_cast<size_t>(audio_frame_size_) * 2, 0.0f);  // pad with silence
        FL_TRY(encode_audio(small_last_ ? left : audio_frame_size_));
    }
    int err = avcodec_send_frame(video_.get(), nullptr);
    if (err < 0) return fail("the video encoder failed to flush", err);
    FL_TRY(drain(video_.get(), vstream_));
    err = avcodec_send_frame(audio_.get(), nullptr);
    if (err < 0) return fail("the audio encoder failed to flush", err);
    FL_TRY(drain(audio_.get(), astream_));
    err = av_write_trailer(mux_.get());
    if (err < 0) return fail("cannot finish the file", err);
    err = avio_closep(&mux_->pb);
    if (err < 0) return fail(av_error_text(err));
    return core::ok();
}

core::Result<void> FilmWriter::encode_audio(int n) {
    AVCodecContext* a = audio_.get();
    FramePtr frame(av_frame_alloc());
    if (!frame) return fail("out of memory");
    frame->format = a->sample_fmt;
    frame->nb_samples = n;
    frame->sample_rate = a->sample_rate;
    av_channel_layout_copy(&frame->ch_layout, &a->ch_layout);
    if (av_frame_get_buffer(frame.get(), 0) < 0) return fail("out of memory");
    const float* src = pending_.data();
    if (a->sample_fmt == AV_SAMPLE_FMT_FLTP) {
        auto* l = reinterpret_cast<float*>(frame->data[0]);
        auto* r = reinterpret_cast<float*>(frame->data[1]);
        for (int i = 0; i < n; ++i) l[i] = src[2 * i], r[i] = src[2 * i + 1];
    } else {
        auto* out = reinterpret_cast<int16_t*>(frame->data[0]);
        for (int i = 0; i < 2 * n; ++i)
            out[i] = static_cast<int16_t>(std::lround(std::clamp(src[i], -1.0f, 1.0f) * 32767.0f));
    }
    pending_.erase(pending_.begin(),
                   pending_.begin() + std::min<ptrdiff_t>(2LL * n, static_cast<ptrdiff_t>(pending_.size())));
    frame->pts = audio_pts_;
    audio_pts_ += n;
    const int err = avcodec_send_frame(a, frame.get());
    if (err < 0) return fail("the audio encoder failed", err);
    return drain(a, astream_);
}

core::Result<void> FilmWriter::drain(AVCodecContext* codec, AVStream* stream) {
    while (true) {
        int err = avcodec_receive_packet(codec, packet_.get());
        if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return core::ok();
        if (err < 0) return fail("encoding failed", err);
        packet_->stream_index = stream->index;
        if (codec == video_.get() && packet_->duration <= 0) packet_->duration = 1;
        av_packet_rescale_ts(packet_.get(), codec->time_base, stream->time_base);
        err = av_interleaved_write_frame(mux_.get(), packet_.get());
        if (err < 0) return fail(av_error_text(err));
    }
}

}  // namespace fl::media::detail
