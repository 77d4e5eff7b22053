#include "frameloom/media/render.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "frameloom/core/atomic_file.h"
#include "frameloom/core/audio.h"
#include "frameloom/core/media_paths.h"
#include "frameloom/media/audio.h"
#include "frameloom/media/clip_frames.h"
#include "frameloom/media/decode.h"
#include "media/film_writer.h"
#include "media/libav.h"

namespace fl::media {
namespace fs = std::filesystem;

namespace {

// ---- Media of the clips ----

std::string clip_label(const core::Clip& clip) {
    return "clip " + clip.id + (clip.name.empty() || clip.name == clip.id ? "" : " (" + clip.name + ")");
}

/// Scales RGB frames of any size into the sequence size, aspect kept, black bars (letterbox/pillarbox).
class Fitter {
public:
    core::Result<core::Frame> fit(const core::Frame& src, int width, int height) {
        if (src.width == width && src.height == height) return src;
        const double scale = std::min(static_cast<double>(width) / src.width, static_cast<double>(height) / src.height);
        const int w = std::clamp(static_cast<int>(std::lround(src.width * scale)), 1, width);
        const int h = std::clamp(static_cast<int>(std::lround(src.height * scale)), 1, height);
        if (!sws_ || w != w_ || h != h_ || src.width != sw_ || src.height != sh_) {
            sws_.reset(sws_getContext(src.width, src.height, AV_PIX_FMT_RGB24, w, h, AV_PIX_FMT_RGB24, SWS_BICUBIC,
                                      nullptr, nullptr, nullptr));
            if (!sws_) return core::fail("cannot scale a " + std::to_string(src.width) + "x" + std::to_string(src.height) + " picture");
            w_ = w, h_ = h, sw_ = src.width, sh_ = src.height;
        }
        core::Frame scaled(w, h);
        const uint8_t* in[1] = {src.rgb.data()};
        const int in_stride[1] = {src.width * 3};
        uint8_t* out[1] = {scaled.rgb.data()};
        const int out_stride[1] = {w * 3};
        sws_scale(sws_.get(), in, in_stride, 0, src.height, out, out_stride);
        core::Frame framed(width, height);
        const int x0 = (width - w) / 2, y0 = (height - h) / 2;
        for (int y = 0; y < h; ++y)
            std::memcpy(framed.pixel(x0, y0 + y), scaled.pixel(0, y), static_cast<size_t>(w) * 3);
        return framed;
    }

private:
    detail::SwsPtr sws_;
    int w_ = 0, h_ = 0, sw_ = 0, sh_ = 0;
};

/// A video clip's media while it plays: a reader, the last picture (speed < 1 and stills repeat it).
struct VideoSource {
    std::unique_ptr<VideoReader> reader;
    core::FrameRate media_fps{0, 1};
    int64_t media_frames = 0;
    int64_t cached_index = -1;
    core::Frame cached;
};

/// The audio of an audio clip, decoded whole at the output rate.
struct AudioSource {
    core::Audio audio;
};

/// Opens media on first use and forgets it once the clip has played.
class MediaCache {
public:
    MediaCache(const core::Project& project, fs::path base, int width, int height, core::FrameRate fps, int rate)
        : project_(project), base_(std::move(base)), width_(width), height_(height), fps_(fps), rate_(rate) {}

    fs::path path_of(const core::Clip& clip) const {
        return core::resolve_media_reference(clip_file(project_, clip), base_);
    }

    /// The picture of `clip` for source frame `s` (frames at the sequence rate), fitted to the sequence.
    core::Result<const core::Frame*> picture(const core::Clip& clip, int64_t s) {
        auto& slot = video_[clip.id];
        if (!slot) {
            const fs::path path = path_of(clip);
            auto reader = VideoReader::open(path);
            if (!reader) return core::fail(clip_label(clip) + ": " + reader.message());
            slot = std::make_unique<VideoSource>();
            slot->media_fps = (*reader)->info().fps;
            slot->media_frames = std::max<int64_t>(1, (*reader)->info().frame_count);
            slot->reader = std::move(*reader);
        }
        VideoSource& v = *slot;
        // Source frames are counted at the sequence rate; media at another rate is sampled at the same time.
        int64_t m = 0;
        if (v.media_fps.num > 0 && v.media_fps != fps_) m = core::rescale_frames(s, fps_, v.media_fps);
        else if (v.media_fps.num > 0) m = s;
        m = std::clamp<int64_t>(m, 0, v.media_frames - 1);  // past the end of the media: hold the last picture
        if (m != v.cached_index) {
            if (v.reader->position() != m) {
                auto sought = v.reader->seek(m);
                if (!sought) return core::fail(clip_label(clip) + ": " + sought.message());
            }
            auto frame = v.reader->read_next();
            if (!frame) return core::fail(clip_label(clip) + ": cannot read frame " + std::to_string(m) + " of " +
                                          path_of(clip).string() + ": " + frame.message());
            auto fitted = fitter_.fit(*frame, width_, height_);
            if (!fitted) return core::fail(clip_label(clip) + ": " + fitted.message());
            v.cached = std::move(*fitted);
            v.cached_index = m;
        }
        return &v.cached;
    }

    core::Result<const core::Audio*> sound(const core::Clip& clip, const core::CancelFn& cancel) {
        auto& slot = audio_[clip.id];
        if (!slot) {
            AudioDecodeOptions o;
            o.sample_rate = rate_;
            o.channels = 2;
            o.cancel = cancel;
            auto decoded = decode_audio(path_of(clip), o);
            if (!decoded) return core::fail(clip_label(clip) + ": " + decoded.message());
            slot = std::make_unique<AudioSource>();
            slot->audio = std::move(*decoded);
        }
        return &slot->audio;
    }

    /// Drops the media of a clip that has finished playing.
    void release(const std::string& clip_id) {
        video_.erase(clip_id);
        audio_.erase(clip_id);
    }

private:
    const core::Project& project_;
    fs::path base_;
    int width_, height_;
    core::FrameRate fps_;
    int rate_;
    Fitter fitter_;
    std::map<std::string, std::unique_ptr<VideoSource>> video_;
    std::map<std::string, std::unique_ptr<AudioSource>> audio_;
};

// ---- Timeline arithmetic ----

/// Fade level of track frame k of clip c (0 = black/silent, 1 = untouched): frame 0 of a fade-in is black,
/// the last frame of a fade-out is black. `k` may be fractional (audio).
double fade_level(const core::Clip& c, double k) {
    const double d = static_cast<double>(c.duration());
    double level = 1.0;
    if (c.fade_in > 0) level = std::min(level, k / static_cast<double>(c.fade_in));
    if (c.fade_out > 0) level = std::min(level, (d - 1.0 - k) / static_cast<double>(c.fade_out));
    return std::clamp(level, 0.0, 1.0);
}

/// Fade level of sound at time k (fractional frames into the clip): a ramp over the fade's span that reaches
/// silence exactly at the clip's start and end.
double audio_fade_level(const core::Clip& c, double k) {
    const double d = static_cast<double>(c.duration());
    double level = 1.0;
    if (c.fade_in > 0) level = std::min(level, k / static_cast<double>(c.fade_in));
    if (c.fade_out > 0) level = std::min(level, (d - k) / static_cast<double>(c.fade_out));
    return std::clamp(level, 0.0, 1.0);
}

/// The clips of one track active at a frame: one, or two inside a crossfade (`a` fading into `b`).
struct Active {
    const core::Clip* a = nullptr;
    const core::Clip* b = nullptr;  ///< set inside a crossfade
    int64_t overlap = 0;            ///< the crossfade's length
};

Active active_at(const core::Track& track, int64_t f) {
    Active act;
    for (size_t i = 0; i < track.clips.size(); ++i) {
        const core::Clip& c = track.clips[i];
        if (c.position > f) break;
        if (f >= c.end()) continue;
        if (!act.a) {
            act.a = &c;
        } else {
            act.b = &c;
            act.overlap = track.overlap_before(i);
            break;
        }
    }
    return act;
}

/// Blends `src` into `dst` with weight w (dst = dst·(1−w) + src·w), rounding to nearest.
void blend(core::Frame& dst, const core::Frame& src, double w) {
    for (size_t i = 0; i < dst.rgb.size(); ++i)
        dst.rgb[i] = static_cast<uint8_t>(std::lround(dst.rgb[i] * (1.0 - w) + src.rgb[i] * w));
}

void scale(core::Frame& f, double level) {
    if (level >= 1.0) return;
    for (auto& v : f.rgb) v = static_cast<uint8_t>(std::lround(v * level));
}

/// First output sample of sequence frame f: floor(f · rate / fps).
int64_t sample_of_frame(int64_t f, core::FrameRate fps, int rate) {
    return static_cast<int64_t>((static_cast<long double>(f) * rate * fps.den) / fps.num);
}

/// Mixes every audio track over output samples [s0, s1) into `out` (interleaved stereo).
core::Result<void> mix_audio(const core::Sequence& seq, MediaCache& media, int rate, int64_t s0, int64_t s1,
                             std::vector<float>& out, const core::CancelFn& cancel) {
    out.assign(static_cast<size_t>(s1 - s0) * 2, 0.0f);
    const double fps = seq.fps.to_double();
    for (const core::Track& track : seq.tracks) {
        if (track.kind != core::TrackKind::Audio) continue;
        for (size_t i = 0; i < track.clips.size(); ++i) {
            const core::Clip& c = track.clips[i];
            const int64_t c0 = sample_of_frame(c.position, seq.fps, rate);
            const int64_t c1 = sample_of_frame(c.end(), seq.fps, rate);
            if (c1 <= s0 || c0 >= s1) continue;
            auto sound = media.sound(c, cancel);
            if (!sound) return sound.error();
            const core::Audio& a = **sound;
            const double gain = std::pow(10.0, c.gain_db / 20.0);
            const int64_t t_in = track.overlap_before(i);        // crossfade into this clip
            const int64_t t_out = track.overlap_before(i + 1);   // crossfade out of it
            const double d = static_cast<double>(c.duration());
            const double speed = c.speed.to_double();
            for (int64_t n = std::max(s0, c0); n < std::min(s1, c1); ++n) {
                const double k = static_cast<double>(n) * fps / rate - static_cast<double>(c.position);  // frames into the clip
                double level = gain * audio_fade_level(c, k);
                if (t_in > 0) level *= std::min(1.0, k / static_cast<double>(t_in));
                if (t_out > 0) level *= std::min(1.0, (d - k) / static_cast<double>(t_out));
                // Source position in output samples; linear interpolation between neighbours.
                const double src = (static_cast<double>(c.in) + k * speed) * rate / fps;
                const auto j = static_cast<int64_t>(std::floor(src));
                const double frac = src - static_cast<double>(j);
                const int64_t count = a.frame_count();
                if (j < 0 || j >= count) continue;  // past the end of the file: silence
                const int64_t j1 = std::min(j + 1, count - 1);
                for (int ch = 0; ch < 2; ++ch) {
                    const double v = a.samples[static_cast<size_t>(2 * j + ch)] * (1.0 - frac) +
                                     a.samples[static_cast<size_t>(2 * j1 + ch)] * frac;
                    out[static_cast<size_t>(2 * (n - s0) + ch)] += static_cast<float>(v * level);
                }
            }
        }
    }
    for (float& v : out) v = std::clamp(v, -1.0f, 1.0f);
    return core::ok();
}

/// The composited picture of sequence frame f.
core::Result<core::Frame> compose(const core::Sequence& seq, MediaCache& media, int64_t f) {
    core::Frame out(seq.width, seq.height);  // black
    for (const core::Track& track : seq.tracks) {  // later tracks are on top
        if (track.kind != core::TrackKind::Video) continue;
        const Active act = active_at(track, f);
        if (!act.a) continue;
        const auto picture_of = [&](const core::Clip& c) -> core::Result<core::Frame> {
            const int64_t k = f - c.position;
            auto pic = media.picture(c, c.source_frame_at(k));
            if (!pic) return pic.error();
            core::Frame frame = **pic;
            scale(frame, fade_level(c, static_cast<double>(k)));
            return frame;
        };
        auto a = picture_of(*act.a);
        if (!a) return a.error();
        if (act.b) {
            auto b = picture_of(*act.b);
            if (!b) return b.error();
            // Frame j of an N-frame dissolve is (j+1)/(N+1) of the incoming clip: never a pure frame of either.
            const int64_t j = f - act.b->position;
            blend(*a, *b, static_cast<double>(j + 1) / static_cast<double>(act.overlap + 1));
        }
        out = std::move(*a);
    }
    return out;
}

}  // namespace

core::Result<RenderFormat> render_format_for(const fs::path& target) {
    std::string ext = target.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (ext == ".mp4") return RenderFormat::Mp4H264Aac;
    if (ext == ".mov") return RenderFormat::MovProResPcm;
    return core::fail("cannot render to " + target.string() + ": use a .mp4 (H.264 + AAC) or .mov (ProRes 422 + PCM) name" +
                      (ext.empty() ? std::string() : " (got " + ext + ")"));
}

core::Result<void> render_sequence(const core::Project& project, const core::Sequence& seq, const fs::path& target,
                                   const RenderOptions& options) {
    auto format = render_format_for(target);
    if (!format) return format.error();
    if (auto r = seq.check_invariants(); !r) return core::fail("cannot render: " + r.message());
    const core::FrameRate fps = seq.fps;
    if (fps.num > INT_MAX || fps.den > INT_MAX) return core::fail("cannot render at frame rate " + core::to_string(fps));
    if (seq.width % 2 != 0 || seq.height % 2 != 0)
        return core::fail("cannot render " + std::to_string(seq.width) + "x" + std::to_string(seq.height) +
                          ": the sequence size must be even for H.264 and ProRes (set an even width and height)");
    if (options.audio_rate < 8000 || options.audio_rate > 192000)
        return core::fail("audio rate " + std::to_string(options.audio_rate) + " is out of range (8000 .. 192000)");
    if (options.crf < 0 || options.crf > 51) return core::fail("crf " + std::to_string(options.crf) + " is out of range (0 .. 51)");
    const int64_t total = seq.duration();
    if (total <= 0) return core::fail("cannot render: the sequence is empty (put clips on its tracks first)");

    MediaCache media(project, options.media_base, seq.width, seq.height, fps, options.audio_rate);
    // Every file must be there before anything is written.
    for (const core::Track& track : seq.tracks)
        for (const core::Clip& c : track.clips) {
            const fs::path path = media.path_of(c);
            std::error_code ec;
            if (path.empty() || !fs::is_regular_file(path, ec))
                return core::fail(clip_label(c) + ": media file not found: " + (path.empty() ? "(none)" : path.string()));
        }

    // Declared before the writer so the muxer closes the temp file before PendingFile removes it.
    auto pending = core::PendingFile::create(target);
    if (!pending) return pending.error();
    {
        detail::FilmWriter writer(target, pending->temp_path());
        detail::FilmSettings settings;
        settings.mp4 = *format == RenderFormat::Mp4H264Aac;
        settings.width = seq.width;
        settings.height = seq.height;
        settings.fps = fps;
        settings.audio_rate = options.audio_rate;
        settings.crf = options.crf;
        settings.preset = options.preset;
        FL_TRY(writer.open(settings));
        std::vector<float> mixed;
        for (int64_t f = 0; f < total; ++f) {
            if (options.cancel && options.cancel()) return core::fail(core::kCancelledMessage);
            auto frame = compose(seq, media, f);
            if (!frame) return frame.error();
            FL_TRY(writer.add_video(*frame, f));
            const int64_t s0 = sample_of_frame(f, fps, options.audio_rate);
            const int64_t s1 = sample_of_frame(f + 1, fps, options.audio_rate);
            FL_TRY(mix_audio(seq, media, options.audio_rate, s0, s1, mixed, options.cancel));
            FL_TRY(writer.add_audio(mixed.data(), s1 - s0));
            // Media of clips that have ended is let go (long films keep a few clips open, not all).
            for (const core::Track& track : seq.tracks)
                for (const core::Clip& c : track.clips)
                    if (c.end() == f + 1) media.release(c.id);
            if (options.progress) options.progress(f + 1, total, "frame " + std::to_string(f + 1) + "/" + std::to_string(total));
        }
        if (options.cancel && options.cancel()) return core::fail(core::kCancelledMessage);
        FL_TRY(writer.finish());
    }
    return pending->commit();
}

struct SequenceFrames::Impl {
    core::Project project;
    MediaCache media;
    Impl(core::Project p, fs::path base)
        : project(std::move(p)),
          media(project, std::move(base), project.sequence.width, project.sequence.height, project.sequence.fps, 48000) {}
};

SequenceFrames::SequenceFrames(core::Project project, fs::path media_base)
    : impl_(std::make_unique<Impl>(std::move(project), std::move(media_base))) {}

SequenceFrames::~SequenceFrames() = default;

int64_t SequenceFrames::frame_count() const { return impl_->project.sequence.duration(); }

core::Result<core::Frame> SequenceFrames::frame(int64_t f) {
    if (impl_->project.sequence.width <= 0 || impl_->project.sequence.height <= 0)
        return core::fail("the sequence has no picture size");
    return compose(impl_->project.sequence, impl_->media, f);
}

struct SequenceAudio::Impl {
    core::Project project;
    int rate;
    MediaCache media;
    Impl(core::Project p, fs::path base, int sample_rate)
        : project(std::move(p)),
          rate(sample_rate),
          media(project, std::move(base), project.sequence.width, project.sequence.height,
                project.sequence.fps, sample_rate) {}
};

SequenceAudio::SequenceAudio(core::Project project, fs::path media_base, int sample_rate)
    : impl_(std::make_unique<Impl>(std::move(project), std::move(media_base), sample_rate)) {}

SequenceAudio::~SequenceAudio() = default;

int SequenceAudio::sample_rate() const { return impl_->rate; }

int64_t SequenceAudio::sample_of_frame(int64_t f) const {
    const core::FrameRate fps = impl_->project.sequence.fps;
    return fps.num > 0 ? media::sample_of_frame(f, fps, impl_->rate) : 0;
}

int64_t SequenceAudio::sample_count() const { return sample_of_frame(impl_->project.sequence.duration()); }

bool SequenceAudio::has_audio() const {
    for (const core::Track& track : impl_->project.sequence.tracks)
        if (track.kind == core::TrackKind::Audio && !track.clips.empty()) return true;
    return false;
}

core::Result<core::Audio> SequenceAudio::mix(int64_t s0, int64_t s1, const core::CancelFn& cancel) {
    core::Audio out;
    out.sample_rate = impl_->rate;
    out.channels = 2;
    if (s1 <= s0) return out;
    if (impl_->project.sequence.fps.num <= 0) return core::fail("the sequence has no frame rate");
    FL_TRY(mix_audio(impl_->project.sequence, impl_->media, impl_->rate, s0, s1, out.samples, cancel));
    return out;
}

}  // namespace fl::media
