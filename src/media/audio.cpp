#include "frameloom/media/audio.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <random>
#include <string>

#include "frameloom/core/atomic_file.h"
#include "media/libav.h"

extern "C" {
#include <libavutil/channel_layout.h>
#include <libswresample/swresample.h>
}

namespace fl::media {
namespace fs = std::filesystem;

namespace {

/// Frees a resampler.
struct SwrDeleter {
    void operator()(SwrContext* ctx) const { swr_free(&ctx); }
};
using SwrPtr = std::unique_ptr<SwrContext, SwrDeleter>;

/// Resamples decoded frames into interleaved float at the target rate, appending to `out`.
class Resampler {
public:
    core::Result<void> add(const AVFrame* frame, core::Audio& out, const std::string& where) {
        if (!swr_) {
            AVChannelLayout in_layout{};
            if (frame->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC || frame->ch_layout.nb_channels <= 0)
                av_channel_layout_default(&in_layout, std::max(1, frame->ch_layout.nb_channels));
            else
                av_channel_layout_copy(&in_layout, &frame->ch_layout);
            AVChannelLayout out_layout{};
            av_channel_layout_default(&out_layout, out.channels);
            SwrContext* raw = nullptr;
            int err = swr_alloc_set_opts2(&raw, &out_layout, AV_SAMPLE_FMT_FLT, out.sample_rate, &in_layout,
                                          static_cast<AVSampleFormat>(frame->format), frame->sample_rate, 0, nullptr);
            av_channel_layout_uninit(&in_layout);
            av_channel_layout_uninit(&out_layout);
            if (err < 0 || !raw) return core::fail("cannot decode " + where + ": cannot set up resampling");
            swr_.reset(raw);
            err = swr_init(swr_.get());
            if (err < 0) return core::fail("cannot decode " + where + ": " + detail::av_error_text(err));
        }
        return convert(frame ? const_cast<const uint8_t**>(frame->extended_data) : nullptr,
                       frame ? frame->nb_samples : 0, out, where);
    }

    /// Drains what the resampler still holds.
    core::Result<void> flush(core::Audio& out, const std::string& where) {
        if (!swr_) return core::ok();
        return convert(nullptr, 0, out, where);
    }

private:
    core::Result<void> convert(const uint8_t** in, int count, core::Audio& out, const std::string& where) {
        const int capacity = swr_get_out_samples(swr_.get(), count) + 32;
        if (capacity <= 0) return core::ok();
        const size_t old = out.samples.size();
        out.samples.resize(old + static_cast<size_t>(capacity) * out.channels);
        auto* dst = reinterpret_cast<uint8_t*>(out.samples.data() + old);
        const int got = swr_convert(swr_.get(), &dst, capacity, in, count);
        if (got < 0) {
            out.samples.resize(old);
            return core::fail("cannot decode " + where + ": " + detail::av_error_text(got));
        }
        out.samples.resize(old + static_cast<size_t>(got) * out.channels);
        return core::ok();
    }

    SwrPtr swr_;
};

/// A demuxer on a file and the index of its best audio stream.
struct AudioInput {
    detail::InputPtr input;
    int stream_index = -1;
};

/// Opens `path`, reads its stream info and picks its best audio stream; each error is one line.
core::Result<AudioInput> open_audio_input(const fs::path& path) {
    const std::string where = path.string();
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) return core::fail("file not found: " + where);
    AVFormatContext* raw = nullptr;
    int err = avformat_open_input(&raw, path.c_str(), nullptr, nullptr);
    if (err < 0) return core::fail("not an audio file: " + where + " (" + detail::av_error_text(err) + ")");
    detail::InputPtr input(raw);
    err = avformat_find_stream_info(input.get(), nullptr);
    if (err < 0) return core::fail("cannot read " + where + ": " + detail::av_error_text(err));
    const int stream_index = av_find_best_stream(input.get(), AVMEDIA_TYPE_AUDIO, -1, -1, nullptr, 0);
    if (stream_index < 0) return core::fail("no audio stream in " + where);
    return AudioInput{std::move(input), stream_index};
}

}  // namespace

core::Result<core::Audio> decode_audio(const fs::path& path, const AudioDecodeOptions& options) {
    const std::string where = path.string();
    if (options.sample_rate < 8000 || options.sample_rate > 192000)
        return core::fail("sample rate " + std::to_string(options.sample_rate) + " is out of range (8000 .. 192000)");
    if (options.channels != 1 && options.channels != 2)
        return core::fail("audio can be decoded to 1 or 2 channels, not " + std::to_string(options.channels));
    auto opened = open_audio_input(path);
    if (!opened) return opened.error();
    detail::InputPtr input = std::move(opened->input);
    const int stream_index = opened->stream_index;
    const AVStream* stream = input->streams[stream_index];
    int err = 0;
    const AVCodec* decoder = avcodec_find_decoder(stream->codecpar->codec_id);
    if (!decoder)
        return core::fail("cannot decode " + where + ": this FFmpeg has no decoder for " +
                          avcodec_get_name(stream->codecpar->codec_id));
    detail::CodecContextPtr codec(avcodec_alloc_context3(decoder));
    if (!codec) return core::fail("cannot decode " + where + ": out of memory");
    err = avcodec_parameters_to_context(codec.get(), stream->codecpar);
    if (err < 0) return core::fail("cannot decode " + where + ": " + detail::av_error_text(err));
    codec->pkt_timebase = stream->time_base;
    err = avcodec_open2(codec.get(), decoder, nullptr);
    if (err < 0) return core::fail("cannot decode " + where + ": " + detail::av_error_text(err));

    core::Audio audio;
    audio.sample_rate = options.sample_rate;
    audio.channels = options.channels;
    Resampler resampler;
    detail::PacketPtr packet(av_packet_alloc());
    detail::FramePtr frame(av_frame_alloc());
    if (!packet || !frame) return core::fail("cannot decode " + where + ": out of memory");

    const auto receive_all = [&]() -> core::Result<void> {
        while (true) {
            const int r = avcodec_receive_frame(codec.get(), frame.get());
            if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return core::ok();
            if (r < 0) return core::fail("cannot decode " + where + ": " + detail::av_error_text(r));
            auto added = resampler.add(frame.get(), audio, where);
            av_frame_unref(frame.get());
            if (!added) return added;
        }
    };
    while (true) {
        if (options.cancel && options.cancel()) return core::fail(core::kCancelledMessage);
        err = av_read_frame(input.get(), packet.get());
        if (err == AVERROR_EOF) break;
        if (err < 0) return core::fail("cannot read " + where + ": " + detail::av_error_text(err));
        if (packet->stream_index == stream_index) {
            err = avcodec_send_packet(codec.get(), packet.get());
            av_packet_unref(packet.get());
            // A damaged packet is skipped, as players do; anything else is fatal.
            if (err < 0 && err != AVERROR_INVALIDDATA && err != AVERROR(EAGAIN))
                return core::fail("cannot decode " + where + ": " + detail::av_error_text(err));
            FL_TRY(receive_all());
        } else {
            av_packet_unref(packet.get());
        }
    }
    avcodec_send_packet(codec.get(), nullptr);
    FL_TRY(receive_all());
    FL_TRY(resampler.flush(audio, where));
    return audio;
}

core::Result<double> probe_audio_seconds(const fs::path& path) {
    auto opened = open_audio_input(path);
    if (!opened) return opened.error();
    const detail::InputPtr input = std::move(opened->input);
    const AVStream* stream = input->streams[opened->stream_index];
    if (stream->duration > 0) return static_cast<double>(stream->duration) * av_q2d(stream->time_base);
    if (input->duration > 0) return static_cast<double>(input->duration) / AV_TIME_BASE;
    auto decoded = decode_audio(path);
    if (!decoded) return decoded.error();
    return decoded->duration_seconds();
}

core::Result<void> write_wav(const core::Audio& audio, const fs::path& target) {
    if (audio.channels < 1 || audio.channels > 8) return core::fail("cannot write a WAV with " + std::to_string(audio.channels) + " channels");
    if (audio.sample_rate <= 0) return core::fail("cannot write a WAV at sample rate " + std::to_string(audio.sample_rate));
    const uint32_t data_bytes = static_cast<uint32_t>(audio.samples.size() * 2);
    std::string bytes;
    bytes.reserve(44 + data_bytes);
    const auto put32 = [&](uint32_t v) {
        for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    };
    const auto put16 = [&](uint16_t v) {
        bytes.push_back(static_cast<char>(v & 0xff));
        bytes.push_back(static_cast<char>(v >> 8));
    };
    bytes += "RIFF";
    put32(36 + data_bytes);
    bytes += "WAVEfmt ";
    put32(16);
    put16(1);  // PCM
    put16(static_cast<uint16_t>(audio.channels));
    put32(static_cast<uint32_t>(audio.sample_rate));
    put32(static_cast<uint32_t>(audio.sample_rate * audio.channels * 2));
    put16(static_cast<uint16_t>(audio.channels * 2));
    put16(16);
    bytes += "data";
    put32(data_bytes);
    for (float s : audio.samples) {
        const float c = std::clamp(std::isfinite(s) ? s : 0.0f, -1.0f, 1.0f);
        put16(static_cast<uint16_t>(static_cast<int16_t>(std::lround(c * 32767.0f))));
    }
    return core::write_file_atomically(target, bytes);
}

core::Audio synthesize_music(const MusicOptions& options) {
    core::Audio audio;
    audio.sample_rate = options.sample_rate > 0 ? options.sample_rate : 48000;
    audio.channels = 2;
    const double seconds = std::max(0.0, options.seconds);
    const int64_t n = static_cast<int64_t>(std::llround(seconds * audio.sample_rate));
    audio.samples.assign(static_cast<size_t>(n) * 2, 0.0f);
    if (n == 0) return audio;

    std::mt19937_64 rng(options.seed);
    // Key: a root between A2 and G#3 (MIDI 45..56). Progressions in scale degrees (major key).
    const int root = 45 + static_cast<int>(rng() % 12);
    static constexpr std::array<std::array<int, 4>, 4> kProgressions{{
        {0, 4, 5, 3},  // I–V–vi–IV
        {0, 5, 3, 4},  // I–vi–IV–V
        {5, 3, 0, 4},  // vi–IV–I–V
        {0, 3, 4, 3},  // I–IV–V–IV
    }};
    const auto& progression = kProgressions[rng() % kProgressions.size()];
    static constexpr std::array<int, 7> kMajor{0, 2, 4, 5, 7, 9, 11};
    static constexpr std::array<std::array<int, 8>, 3> kPatterns{{
        {0, 1, 2, 1, 0, 1, 2, 3}, {0, 2, 1, 2, 3, 2, 1, 2}, {0, 1, 2, 3, 2, 1, 0, 2}}};
    const auto& pattern = kPatterns[rng() % kPatterns.size()];

    const double bpm = options.bpm > 0 ? options.bpm : 96.0;
    const double beat = 60.0 / bpm;
    const double bar = 4 * beat;
    const double eighth = beat / 2;
    const auto freq = [](int midi) { return 440.0 * std::pow(2.0, (midi - 69) / 12.0); };
    // Chord tones (MIDI) of scale degree d: triad stacked in thirds within the key, plus the octave.
    const auto chord = [&](int d) {
        std::array<int, 4> notes{};
        for (int k = 0; k < 3; ++k) {
            const int step = d + 2 * k;
            notes[static_cast<size_t>(k)] = root + kMajor[static_cast<size_t>(step % 7)] + 12 * (step / 7);
        }
        notes[3] = notes[0] + 12;
        return notes;
    };
    constexpr double kTwoPi = 6.283185307179586;
    const double rate = audio.sample_rate;
    const double fade = std::min(1.5, seconds / 4);
    for (int64_t i = 0; i < n; ++i) {
        const double t = static_cast<double>(i) / rate;
        const auto bar_index = static_cast<int64_t>(t / bar);
        const double in_bar = t - static_cast<double>(bar_index) * bar;
        const auto notes = chord(progression[static_cast<size_t>(bar_index % 4)]);
        // Pad: the triad, soft attack at each bar.
        double pad = 0;
        for (int k = 0; k < 3; ++k) pad += std::sin(kTwoPi * freq(notes[static_cast<size_t>(k)] + 12) * t);
        pad *= 0.06 * std::min(1.0, in_bar / 0.3);
        // Arpeggio: eighth notes an octave up, plucked (exponential decay).
        const auto step = static_cast<int64_t>(in_bar / eighth);
        const double in_note = in_bar - static_cast<double>(step) * eighth;
        const int arp_note = notes[static_cast<size_t>(pattern[static_cast<size_t>(step % 8)])] + 24;
        const double arp = 0.12 * std::exp(-in_note * 6.0) * std::sin(kTwoPi * freq(arp_note) * t);
        // Bass: the root on each beat.
        const double in_beat = std::fmod(in_bar, beat);
        const double bass = 0.18 * std::exp(-in_beat * 3.0) * std::sin(kTwoPi * freq(notes[0] - 12) * t);
        double env = 1.0;
        if (fade > 0) env = std::min({1.0, t / fade, (seconds - t) / fade});
        const double mid = env * (pad + bass);
        // A little width: the arpeggio leans left on even steps and right on odd ones.
        const double pan = step % 2 == 0 ? 0.35 : 0.65;
        audio.samples[static_cast<size_t>(2 * i)] = static_cast<float>(mid + env * arp * (1.0 - pan) * 1.4);
        audio.samples[static_cast<size_t>(2 * i + 1)] = static_cast<float>(mid + env * arp * pan * 1.4);
    }
    return audio;
}

}  // namespace fl::media
