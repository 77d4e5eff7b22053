#include "frameloom/media/decode.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <utility>

#include "media/input.h"
#include "media/libav.h"
#include "media/rgb_converter.h"

namespace fl::media {
namespace fs = std::filesystem;

namespace {

constexpr const char* kEndOfStream = "end of stream";

/// Forward steps this short are decoded through instead of seeking (cheaper for players stepping ahead).
constexpr int64_t kMaxForwardDecode = 32;

/// The decoder half of a reader: demuxer + decoder for the first video stream, positioned at the start.
struct DecodeState {
    detail::OpenedInput input;
    detail::CodecContextPtr codec;
    bool flushing = false;  // the demuxer is exhausted and the decoder was told so
    bool finished = false;  // the decoder has returned its last frame
};

core::Result<DecodeState> open_decoder(const fs::path& path) {
    auto input = detail::open_input(path);
    if (!input) return input.error();
    const AVStream* stream = input->format->streams[input->video_stream];
    const AVCodec* decoder = avcodec_find_decoder(stream->codecpar->codec_id);
    if (!decoder)
        return core::fail("cannot decode " + path.string() + ": this FFmpeg has no decoder for " +
                          avcodec_get_name(stream->codecpar->codec_id));
    detail::CodecContextPtr codec(avcodec_alloc_context3(decoder));
    if (!codec) return core::fail("cannot decode " + path.string() + ": out of memory");
    int err = avcodec_parameters_to_context(codec.get(), stream->codecpar);
    if (err < 0) return core::fail("cannot decode " + path.string() + ": " + detail::av_error_text(err));
    codec->pkt_timebase = stream->time_base;
    codec->thread_count = 0;  // decoding is exact whatever the thread count; let FFmpeg pick
    err = avcodec_open2(codec.get(), decoder, nullptr);
    if (err < 0) return core::fail("cannot decode " + path.string() + ": " + detail::av_error_text(err));
    DecodeState state;
    state.input = std::move(*input);
    state.codec = std::move(codec);
    return state;
}

/// Frame-exact reader. Frame indices come from timestamps measured from the first decoded picture (not the
/// container's start_time, which B-frame delay and some demuxers shift); where timestamps cannot be trusted
/// it falls back to decoding from the start and counting, which is slow but always right.
class Reader final : public VideoReader {
public:
    static core::Result<std::unique_ptr<Reader>> open(const fs::path& path, int out_width, int out_height) {
        auto info = probe(path);
        if (!info) return info.error();
        auto reader = std::unique_ptr<Reader>(new Reader(path, std::move(*info), out_width, out_height));
        reader->packet_.reset(av_packet_alloc());
        reader->frame_.reset(av_frame_alloc());
        if (!reader->packet_ || !reader->frame_) return core::fail("cannot decode " + path.string() + ": out of memory");
        FL_TRY(reader->rewind());
        // Peek at the first picture: its timestamp is frame 0's, the origin for every later index.
        auto got = reader->decode_one();
        if (!got) return got.error();
        if (*got) {
            reader->first_ts_ = timestamp_of(*reader->frame_);
            reader->peeked_ = true;
        }
        return reader;
    }

    const MediaInfo& info() const override { return info_; }

    core::Result<core::Frame> read_next() override {
        auto next = next_frame();
        if (!next) return next.error();
        if (!*next) return core::fail(kEndOfStream);
        return std::move(**next);
    }

    /// The next frame, or nullopt at the end of the stream.
    core::Result<std::optional<core::Frame>> next_frame() {
        while (true) {
            if (peeked_) {
                peeked_ = false;
            } else {
                auto got = decode_one();
                if (!got) return got.error();
                if (!*got) {
                    if (skip_to_ >= 0) {  // no keyframe after the landing point: aim earlier
                        FL_TRY(seek_near(skip_to_, seek_attempt_ + 1));
                        continue;
                    }
                    return std::optional<core::Frame>{};
                }
            }
            if (discard_ > 0) {  // counting forward from a known position
                --discard_;
                continue;
            }
            if (skip_to_ >= 0) {  // after a seek: the frame's own timestamp says where we are
                const int64_t index = index_of(*frame_);
                if (!seen_key_) {
                    // Pictures before the first keyframe may lean on references we skipped.
                    if (!frame_->key_frame) continue;
                    seen_key_ = true;
                    if (index < 0) {  // no timestamps after all
                        FL_TRY(restart_counting(skip_to_));
                        continue;
                    }
                    if (index > skip_to_) {  // landed on a keyframe past the target: aim earlier
                        FL_TRY(seek_near(skip_to_, seek_attempt_ + 1));
                        continue;
                    }
                }
                if (index < skip_to_) continue;
                if (index != skip_to_) {
                    FL_TRY(restart_counting(skip_to_));
                    continue;
                }
                skip_to_ = -1;
            }
            auto rgb = converter_.convert(*frame_, out_width_, out_height_);
            av_frame_unref(frame_.get());
            if (!rgb) return rgb.error();
            ++position_;
            return std::optional<core::Frame>(std::move(*rgb));
        }
    }

    core::Result<void> seek(int64_t index) override {
        if (index < 0 || index >= info_.frame_count)
            return core::fail("cannot seek to frame " + std::to_string(index) + ": " + path_.string() + " has " +
                              std::to_string(info_.frame_count) + " frames");
        const bool settled = discard_ == 0 && skip_to_ < 0 && !state_.finished;
        if (settled && index >= position_ && index - position_ <= kMaxForwardDecode) {
            discard_ = index - position_;
            position_ = index;
            return core::ok();
        }
        if (index == 0 || info_.is_image || info_.fps.num <= 0 || first_ts_ == AV_NOPTS_VALUE)
            return restart_counting(index);

        return seek_near(index, 0);
    }

    int64_t position() const override { return position_; }

private:
    Reader(fs::path path, MediaInfo info, int out_width, int out_height)
        : path_(std::move(path)), info_(std::move(info)), out_width_(out_width), out_height_(out_height) {}

    /// Reopens the file at its first frame: the one way back that works for every demuxer.
    core::Result<void> rewind() {
        auto state = open_decoder(path_);
        if (!state) return state.error();
        state_ = std::move(*state);
        peeked_ = false;
        discard_ = 0;
        skip_to_ = -1;
        await_key_packet_ = false;
        position_ = 0;
        return core::ok();
    }

    /// Seeks to the keyframe at or before frame `index`, aiming 2^(attempt-1) seconds earlier on retries
    /// (mpegts and avi can land on the keyframe after the time asked for); counts from the start at last.
    core::Result<void> seek_near(int64_t index, int attempt) {
        constexpr int kMaxAttempts = 4;
        const int64_t second = std::max<int64_t>(1, std::llround(info_.fps.to_double()));
        const int64_t aim = attempt == 0 ? index : index - second * (int64_t{1} << (attempt - 1));
        if (attempt > kMaxAttempts || aim <= 0) return restart_counting(index);

        AVFormatContext* format = state_.input.format.get();
        const AVStream* stream = format->streams[state_.input.video_stream];
        const int64_t ts = first_ts_ + av_rescale_q(aim, frame_duration(), stream->time_base);
        if (av_seek_frame(format, state_.input.video_stream, ts, AVSEEK_FLAG_BACKWARD) < 0)
            return restart_counting(index);
        avcodec_flush_buffers(state_.codec.get());
        state_.flushing = state_.finished = false;
        peeked_ = false;
        discard_ = 0;
        skip_to_ = index;
        seek_attempt_ = attempt;
        seen_key_ = false;
        await_key_packet_ = true;
        position_ = index;
        return core::ok();
    }

    /// Rewinds and arranges for the next read to return frame `index`, found by counting.
    core::Result<void> restart_counting(int64_t index) {
        FL_TRY(rewind());
        discard_ = index;
        position_ = index;
        return core::ok();
    }

    AVRational frame_duration() const {
        return AVRational{static_cast<int>(info_.fps.den), static_cast<int>(info_.fps.num)};
    }

    static int64_t timestamp_of(const AVFrame& frame) {
        return frame.best_effort_timestamp != AV_NOPTS_VALUE ? frame.best_effort_timestamp : frame.pts;
    }

    /// The frame's index from its timestamp, the stream's time base and the frame rate; -1 when unknown.
    int64_t index_of(const AVFrame& frame) const {
        const int64_t ts = timestamp_of(frame);
        if (ts == AV_NOPTS_VALUE || first_ts_ == AV_NOPTS_VALUE || info_.fps.num <= 0) return -1;
        const AVStream* stream = state_.input.format->streams[state_.input.video_stream];
        return av_rescale_q_rnd(ts - first_ts_, stream->time_base, frame_duration(),
                                static_cast<AVRounding>(AV_ROUND_NEAR_INF | AV_ROUND_PASS_MINMAX));
    }

    /// Decodes the next picture into frame_; false at the end of the stream.
    core::Result<bool> decode_one() {
        AVCodecContext* codec = state_.codec.get();
        AVFormatContext* format = state_.input.format.get();
        while (!state_.finished) {
            int err = avcodec_receive_frame(codec, frame_.get());
            if (err == 0) return true;
            if (err == AVERROR_EOF) {
                state_.finished = true;
                break;
            }
            if (err != AVERROR(EAGAIN)) return decode_error(err);
            if (state_.flushing) return decode_error(err);  // a drained decoder must not ask for more input

            err = av_read_frame(format, packet_.get());
            if (err == AVERROR_EOF) {
                state_.flushing = true;
                err = avcodec_send_packet(codec, nullptr);
                if (err < 0 && err != AVERROR_EOF) return decode_error(err);
                continue;
            }
            if (err < 0) return core::fail("cannot read " + path_.string() + ": " + detail::av_error_text(err));
            const bool ours = packet_->stream_index == state_.input.video_stream;
            // After a seek, start at a keyframe: earlier packets would only decode into garbage.
            if (!ours || (await_key_packet_ && !(packet_->flags & AV_PKT_FLAG_KEY))) {
                av_packet_unref(packet_.get());
                continue;
            }
            await_key_packet_ = false;
            err = avcodec_send_packet(codec, packet_.get());
            av_packet_unref(packet_.get());
            // A damaged packet costs one picture, not the whole file.
            if (err < 0 && err != AVERROR_INVALIDDATA) return decode_error(err);
        }
        return false;
    }

    core::Error decode_error(int err) const {
        return core::fail("cannot decode " + path_.string() + ": " + detail::av_error_text(err));
    }

    fs::path path_;
    MediaInfo info_;
    int out_width_ = 0;
    int out_height_ = 0;
    DecodeState state_;
    detail::PacketPtr packet_;
    detail::FramePtr frame_;
    detail::RgbConverter converter_;
    int64_t first_ts_ = AV_NOPTS_VALUE;  // timestamp of frame 0, in the stream's time base
    bool peeked_ = false;                // frame_ holds a decoded picture not yet returned
    int64_t position_ = 0;               // index of the frame the next read returns
    int64_t discard_ = 0;                // decoded frames still to drop before position_ (counted)
    int64_t skip_to_ = -1;               // after a timestamp seek: drop frames whose index is below this
    int seek_attempt_ = 0;               // after a timestamp seek: how many times it aimed earlier
    bool seen_key_ = false;              // after a timestamp seek: a keyframe has been decoded
    bool await_key_packet_ = false;      // after a timestamp seek: drop packets until a keyframe
};

}  // namespace

core::Result<std::unique_ptr<VideoReader>> VideoReader::open(const fs::path& path) {
    auto reader = Reader::open(path, 0, 0);
    if (!reader) return reader.error();
    return std::unique_ptr<VideoReader>(std::move(*reader));
}

core::Result<core::Video> decode_video(const fs::path& path, const DecodeOptions& options) {
    const bool scale = options.width > 0 && options.height > 0;
    auto reader = Reader::open(path, scale ? options.width : 0, scale ? options.height : 0);
    if (!reader) return reader.error();
    const MediaInfo& info = (*reader)->info();

    core::Video video;
    if (info.fps.num > 0) video.fps = info.fps;  // a still keeps Video's default rate
    int64_t wanted = info.frame_count;
    if (options.max_frames >= 0 && options.max_frames < wanted) wanted = options.max_frames;
    video.frames.reserve(static_cast<size_t>(wanted > 0 ? wanted : 0));
    while (options.max_frames < 0 || video.frame_count() < options.max_frames) {
        if (options.cancel && options.cancel()) return core::fail(core::kCancelledMessage);
        auto frame = (*reader)->next_frame();
        if (!frame) return frame.error();
        if (!*frame) break;
        video.frames.push_back(std::move(**frame));
    }
    if (video.frames.empty() && options.max_frames != 0)
        return core::fail("cannot decode " + path.string() + ": no pictures in the video stream");
    return video;
}

core::Result<core::Frame> decode_image(const fs::path& path) {
    auto reader = Reader::open(path, 0, 0);
    if (!reader) return reader.error();
    auto frame = (*reader)->next_frame();
    if (!frame) return frame.error();
    if (!*frame) return core::fail("cannot decode " + path.string() + ": no picture in the file");
    return std::move(**frame);
}

}  // namespace fl::media
