// render_sequence: a known sequence rendered and decoded back, checked frame by frame at its cut points.
#include "frameloom/media/render.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "frameloom/core/edit.h"
#include "frameloom/media/audio.h"
#include "frameloom/media/decode.h"
#include "frameloom/media/encode.h"
#include "media_fixture.h"

namespace fl::media {
namespace {

using testing::MediaTest;
using testing::TempDir;
using Rgb = std::array<int, 3>;

constexpr int kSize = 64;
const core::FrameRate kFps{8, 1};

core::Video solid_video(Rgb c, int frames) {
    core::Video v;
    v.fps = kFps;
    for (int i = 0; i < frames; ++i) {
        core::Frame f(kSize, kSize);
        for (size_t p = 0; p < f.rgb.size(); p += 3)
            for (int ch = 0; ch < 3; ++ch) f.rgb[p + static_cast<size_t>(ch)] = static_cast<uint8_t>(c[static_cast<size_t>(ch)]);
        v.frames.push_back(std::move(f));
    }
    return v;
}

/// Frame i is grey 8 + 15·i: which source frame a speed-changed clip shows can be read off its level.
core::Video ramp_video(int frames) {
    core::Video v;
    v.fps = kFps;
    for (int i = 0; i < frames; ++i) {
        core::Frame f(kSize, kSize);
        std::fill(f.rgb.begin(), f.rgb.end(), static_cast<uint8_t>(8 + 15 * i));
        v.frames.push_back(std::move(f));
    }
    return v;
}

/// Mean colour of the centre 32x32 (away from chroma bleeding at edges).
Rgb mean_centre(const core::Frame& f) {
    std::array<double, 3> sum{};
    int n = 0;
    for (int y = 16; y < 48; ++y)
        for (int x = 16; x < 48; ++x, ++n)
            for (int ch = 0; ch < 3; ++ch) sum[static_cast<size_t>(ch)] += f.pixel(x, y)[ch];
    return {static_cast<int>(std::lround(sum[0] / n)), static_cast<int>(std::lround(sum[1] / n)),
            static_cast<int>(std::lround(sum[2] / n))};
}

Rgb mix(Rgb a, Rgb b, double w) {
    Rgb out{};
    for (size_t i = 0; i < 3; ++i) out[i] = static_cast<int>(std::lround(a[i] * (1 - w) + b[i] * w));
    return out;
}

Rgb times(Rgb a, double level) { return mix({0, 0, 0}, a, level); }

#define EXPECT_COLOUR_NEAR(frame, expected, tol)                                                   \
    do {                                                                                           \
        const Rgb got_ = mean_centre(frame);                                                       \
        const Rgb want_ = (expected);                                                              \
        for (size_t ch_ = 0; ch_ < 3; ++ch_)                                                       \
            EXPECT_NEAR(got_[ch_], want_[ch_], tol) << "channel " << ch_ << " of " #frame;          \
    } while (0)

const Rgb kRed{200, 40, 40};
const Rgb kGreen{40, 200, 40};
const Rgb kBlue{40, 40, 200};
const Rgb kWhite{220, 220, 220};

/// A 440 Hz sine at amplitude 0.5, stereo, 48 kHz.
core::Audio tone(double seconds) {
    core::Audio a;
    a.sample_rate = 48000;
    a.channels = 2;
    const auto n = static_cast<int64_t>(seconds * a.sample_rate);
    for (int64_t i = 0; i < n; ++i) {
        const auto v = static_cast<float>(0.5 * std::sin(2 * M_PI * 440.0 * static_cast<double>(i) / a.sample_rate));
        a.samples.push_back(v);
        a.samples.push_back(v);
    }
    return a;
}

class RenderTest : public MediaTest {
protected:
    void SetUp() override {
        EncodeOptions fast;
        fast.preset = "ultrafast";
        fast.crf = 10;
        ASSERT_TRUE(encode_mp4(solid_video(kRed, 16), dir / "red.mp4", fast).ok());
        ASSERT_TRUE(encode_mp4(solid_video(kGreen, 16), dir / "green.mp4", fast).ok());
        ASSERT_TRUE(encode_mp4(solid_video(kBlue, 8), dir / "blue.mp4", fast).ok());
        ASSERT_TRUE(encode_mp4(solid_video(kWhite, 8), dir / "white.mp4", fast).ok());
        ASSERT_TRUE(encode_mp4(ramp_video(16), dir / "ramp.mp4", fast).ok());
        ASSERT_TRUE(write_wav(tone(4.0), dir / "tone.wav").ok());
        project = known_project();
    }

    /// The known sequence (8 fps, 64x64, 28 frames = 3.5 s), built with the edit commands:
    ///   V2:                                                      [E 25-26]
    ///   V1: [A red 0-7, fade-in 4][xfade 4-7][B green 4-11][C ramp ×2 12-19, fade-out 4] gap [D blue 24-27]
    ///   A1: [tone 440 Hz, -6 dB, fade-in 4 frames, 0-27]
    core::Project known_project() {
        core::Project p = core::Project::make_new("render test");
        p.sequence.fps = kFps;
        p.sequence.width = kSize;
        p.sequence.height = kSize;
        core::UndoStack undo;
        const std::string v1 = p.sequence.tracks[0].id;
        const auto clip = [](const std::string& file, int64_t in, int64_t out, int64_t position) {
            core::Clip c;
            c.source.file = file;
            c.in = in, c.out = out, c.position = position;
            return c;
        };
        const auto push = [&](std::unique_ptr<core::Command> cmd) {
            auto r = undo.push(p, std::move(cmd));
            EXPECT_TRUE(r.ok()) << r.message();
            EXPECT_TRUE(p.check_invariants().ok()) << p.check_invariants().message();
        };
        push(core::make_add_clip(v1, clip("red.mp4", 0, 8, 0)));
        const std::string a = p.sequence.tracks[0].clips[0].id;
        push(core::make_set_fades(v1, a, 4, 0));
        push(core::make_add_clip(v1, clip("green.mp4", 0, 8, 8)));
        const std::string b = p.sequence.tracks[0].clips[1].id;
        push(core::make_set_transition(v1, b, 4));  // B moves to frame 4, overlapping A's last 4 frames
        push(core::make_add_clip(v1, clip("ramp.mp4", 0, 16, 12)));
        const std::string c = p.sequence.tracks[0].clips[2].id;
        push(core::make_set_speed(v1, c, core::Rational{2, 1}));  // 16 source frames in 8
        push(core::make_set_fades(v1, c, 0, 4));
        push(core::make_add_clip(v1, clip("blue.mp4", 0, 4, 24)));
        core::Track v2;
        v2.kind = core::TrackKind::Video;
        push(core::make_add_track(v2));
        push(core::make_add_clip(p.sequence.tracks[1].id, clip("white.mp4", 0, 2, 25)));
        core::Track a1;
        a1.kind = core::TrackKind::Audio;
        push(core::make_add_track(a1));
        push(core::make_add_audio_clip(p.sequence.tracks[2].id, "tone.wav", 0, 28, -6.0));
        push(core::make_set_fades(p.sequence.tracks[2].id, p.sequence.tracks[2].clips[0].id, 4, 0));  // 0.5 s
        EXPECT_EQ(p.sequence.duration(), 28);
        return p;
    }

    RenderOptions options() const {
        RenderOptions o;
        o.media_base = dir.path();
        o.crf = 8;
        o.preset = "ultrafast";
        return o;
    }

    TempDir dir{"fl-render"};
    core::Project project;
};

TEST_F(RenderTest, Mp4FramesAtCutPointsCrossfadeFadeSpeedAndTopTrack) {
    std::vector<int64_t> progress;
    RenderOptions o = options();
    o.progress = [&](int64_t done, int64_t total, const std::string&) {
        progress.push_back(done);
        EXPECT_EQ(total, 28);
    };
    const auto target = dir / "film.mp4";
    auto r = render_sequence(project, project.sequence, target, o);
    ASSERT_TRUE(r.ok()) << r.message();
    ASSERT_EQ(progress.size(), 28u);
    EXPECT_EQ(progress.back(), 28);

    auto info = probe(target);
    ASSERT_TRUE(info.ok()) << info.message();
    EXPECT_EQ(info->width, kSize);
    EXPECT_EQ(info->fps, kFps);
    EXPECT_TRUE(info->has_audio);
    auto video = decode_video(target);
    ASSERT_TRUE(video.ok()) << video.message();
    ASSERT_EQ(video->frame_count(), 28);
    const auto& f = video->frames;
    const int tol = 6;
    // A fades up from black over 4 frames: frame k at k/4.
    EXPECT_COLOUR_NEAR(f[0], (Rgb{0, 0, 0}), tol);
    EXPECT_COLOUR_NEAR(f[2], times(kRed, 0.5), tol);
    EXPECT_COLOUR_NEAR(f[3], times(kRed, 0.75), tol);
    // Crossfade A→B over frames 4..7: frame 4+j is (j+1)/5 green.
    EXPECT_COLOUR_NEAR(f[4], mix(kRed, kGreen, 0.2), tol);
    EXPECT_COLOUR_NEAR(f[5], mix(kRed, kGreen, 0.4), tol);
    EXPECT_COLOUR_NEAR(f[7], mix(kRed, kGreen, 0.8), tol);
    EXPECT_COLOUR_NEAR(f[8], kGreen, tol);
    EXPECT_COLOUR_NEAR(f[11], kGreen, tol);
    // C at speed 2 shows source frames 0, 2, 4, ... (grey 8 + 15·2k), fading out over its last 4 frames.
    EXPECT_COLOUR_NEAR(f[12], (Rgb{8, 8, 8}), tol);
    EXPECT_COLOUR_NEAR(f[13], (Rgb{38, 38, 38}), tol);
    EXPECT_COLOUR_NEAR(f[15], (Rgb{98, 98, 98}), tol);
    EXPECT_COLOUR_NEAR(f[16], times(Rgb{128, 128, 128}, 0.75), tol);
    EXPECT_COLOUR_NEAR(f[19], (Rgb{0, 0, 0}), tol);
    // The gap is black; D is blue; V2's clip wins over D on frames 25 and 26.
    EXPECT_COLOUR_NEAR(f[21], (Rgb{0, 0, 0}), tol);
    EXPECT_COLOUR_NEAR(f[24], kBlue, tol);
    EXPECT_COLOUR_NEAR(f[25], kWhite, tol);
    EXPECT_COLOUR_NEAR(f[26], kWhite, tol);
    EXPECT_COLOUR_NEAR(f[27], kBlue, tol);

    // Audio: 3.5 s of the tone at -6 dB (amplitude 0.25, RMS 0.177), 440 Hz.
    auto audio = decode_audio(target);
    ASSERT_TRUE(audio.ok()) << audio.message();
    EXPECT_NEAR(audio->duration_seconds(), 3.5, 0.03);
    double sum = 0;
    int64_t crossings = 0;
    const int64_t from = 48000, to = 48000 * 3;  // one second in the middle
    for (int64_t i = from; i < to; ++i) {
        const double v = audio->samples[static_cast<size_t>(2 * i)];
        sum += v * v;
        if ((audio->samples[static_cast<size_t>(2 * (i - 1))] < 0) != (v < 0)) ++crossings;
    }
    EXPECT_NEAR(std::sqrt(sum / static_cast<double>(to - from)), 0.25 / std::sqrt(2.0), 0.02);
    EXPECT_NEAR(static_cast<double>(crossings) / 2.0, 2 * 440.0, 10.0);
    // The 0.5 s fade-in is a linear ramp: RMS over it is 1/√3 of the steady level.
    sum = 0;
    for (int64_t i = 0; i < 24000; ++i) sum += std::pow(audio->samples[static_cast<size_t>(2 * i)], 2);
    EXPECT_NEAR(std::sqrt(sum / 24000.0), 0.25 / std::sqrt(2.0) / std::sqrt(3.0), 0.015);  // two seconds: 880 cycles, two crossings each
}

TEST_F(RenderTest, MovIsProResWithExactPcmAudio) {
    const auto target = dir / "film.mov";
    auto r = render_sequence(project, project.sequence, target, options());
    ASSERT_TRUE(r.ok()) << r.message();
    auto info = probe(target);
    ASSERT_TRUE(info.ok()) << info.message();
    EXPECT_EQ(info->video_codec, "prores");
    EXPECT_EQ(info->frame_count, 28);
    auto video = decode_video(target);
    ASSERT_TRUE(video.ok()) << video.message();
    ASSERT_EQ(video->frame_count(), 28);
    EXPECT_COLOUR_NEAR(video->frames[4], mix(kRed, kGreen, 0.2), 6);
    EXPECT_COLOUR_NEAR(video->frames[8], kGreen, 6);
    auto audio = decode_audio(target);
    ASSERT_TRUE(audio.ok()) << audio.message();
    EXPECT_EQ(audio->frame_count(), 3 * 48000 + 24000);  // PCM: exactly 3.5 s
    EXPECT_NEAR(audio->samples[0], 0.0f, 1e-3);                // the fade-in starts from silence
    float peak_late = 0;
    for (int64_t i = 48000; i < 48000 + 4800; ++i) peak_late = std::max(peak_late, std::abs(audio->samples[static_cast<size_t>(2 * i)]));
    EXPECT_NEAR(peak_late, 0.25, 0.01);  // −6 dB of 0.5
}

TEST_F(RenderTest, SequenceAudioMixesWhatTheFilmPlays) {
    // The preview's sound: a second audio track at double speed with +2 dB crossing the first, mixed in
    // odd-sized chunks, must give the samples the .mov carries (16-bit PCM: within one step of 1/32767).
    core::UndoStack undo;
    core::Track a2;
    a2.kind = core::TrackKind::Audio;
    ASSERT_TRUE(undo.push(project, core::make_add_track(a2)).ok());
    const std::string a2_id = project.sequence.tracks.back().id;
    ASSERT_TRUE(undo.push(project, core::make_add_audio_clip(a2_id, "tone.wav", 6, 12, 2.0)).ok());
    const std::string clip_id = project.sequence.tracks.back().clips[0].id;
    ASSERT_TRUE(undo.push(project, core::make_set_speed(a2_id, clip_id, core::Rational{2, 1})).ok());
    ASSERT_TRUE(undo.push(project, core::make_set_fades(a2_id, clip_id, 2, 2)).ok());
    ASSERT_TRUE(project.check_invariants().ok());

    const auto target = dir / "film.mov";
    ASSERT_TRUE(render_sequence(project, project.sequence, target, options()).ok());
    auto film = decode_audio(target);
    ASSERT_TRUE(film.ok()) << film.message();

    SequenceAudio sound(project, dir.path());
    EXPECT_TRUE(sound.has_audio());
    EXPECT_EQ(sound.sample_rate(), 48000);
    EXPECT_EQ(sound.sample_of_frame(1), 6000);
    ASSERT_EQ(sound.sample_count(), film->frame_count());
    std::vector<float> mixed;
    for (int64_t s0 = 0; s0 < sound.sample_count(); s0 += 1001) {
        auto chunk = sound.mix(s0, std::min<int64_t>(s0 + 1001, sound.sample_count()));
        ASSERT_TRUE(chunk.ok()) << chunk.message();
        ASSERT_EQ(chunk->channels, 2);
        mixed.insert(mixed.end(), chunk->samples.begin(), chunk->samples.end());
    }
    ASSERT_EQ(mixed.size(), film->samples.size());
    float worst = 0, loudest = 0;
    for (size_t i = 0; i < mixed.size(); ++i) {
        worst = std::max(worst, std::abs(mixed[i] - film->samples[i]));
        loudest = std::max(loudest, std::abs(mixed[i]));
    }
    EXPECT_LT(worst, 1.5f / 32767.0f);
    EXPECT_GT(loudest, 0.7f) << "the tones overlap: the mix is louder than either alone (0.25, 0.63)";

    // A range starting mid-film (the preview playing from the playhead) is the same samples; past the end
    // is silence.
    const int64_t from = sound.sample_of_frame(13);
    auto late = sound.mix(from, from + 480);
    ASSERT_TRUE(late.ok());
    for (size_t i = 0; i < late->samples.size(); ++i)
        ASSERT_NEAR(late->samples[i], film->samples[static_cast<size_t>(2 * from) + i], 1.5f / 32767.0f) << i;
    auto after = sound.mix(sound.sample_count(), sound.sample_count() + 100);
    ASSERT_TRUE(after.ok());
    EXPECT_EQ(after->samples, std::vector<float>(200, 0.0f));

    // Missing media is an error naming the clip.
    std::filesystem::remove(dir / "tone.wav");
    SequenceAudio offline(project, dir.path());
    auto missing = offline.mix(0, 100);
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.message().find("clip"), std::string::npos) << missing.message();
}

TEST_F(RenderTest, MissingMediaFailsAndLeavesNoFile) {
    project.sequence.tracks[0].clips[1].source.file = "gone.mp4";
    const auto target = dir / "film.mp4";
    auto r = render_sequence(project, project.sequence, target, options());
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.message().find("gone.mp4"), std::string::npos) << r.message();
    EXPECT_NE(r.message().find("not found"), std::string::npos) << r.message();
    EXPECT_FALSE(std::filesystem::exists(target));
}

TEST_F(RenderTest, CancelLeavesNeitherTargetNorTempFile) {
    const auto before = dir.entries().size();
    RenderOptions o = options();
    int frames = 0;
    o.progress = [&](int64_t, int64_t, const std::string&) { ++frames; };
    o.cancel = [&] { return frames >= 5; };
    const auto target = dir / "film.mp4";
    auto r = render_sequence(project, project.sequence, target, o);
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(core::is_cancelled_message(r.message())) << r.message();
    EXPECT_EQ(frames, 5);
    EXPECT_FALSE(std::filesystem::exists(target));
    EXPECT_EQ(dir.entries().size(), before);  // no temp file left beside it
}

TEST_F(RenderTest, UndecodableMediaMidRenderLeavesNoFile) {
    // A file that exists but is not video: found up front, fails when its clip starts (frame 12).
    std::ofstream(dir / "broken.mp4") << "not a video";
    project.sequence.tracks[0].clips[2].source.file = "broken.mp4";
    const auto before = dir.entries().size();
    const auto target = dir / "film.mov";
    auto r = render_sequence(project, project.sequence, target, options());
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.message().find(project.sequence.tracks[0].clips[2].id), std::string::npos) << r.message();
    EXPECT_FALSE(std::filesystem::exists(target));
    EXPECT_EQ(dir.entries().size(), before);
}

TEST_F(RenderTest, RejectsBadRequests) {
    auto avi = render_sequence(project, project.sequence, dir / "film.avi", options());
    ASSERT_FALSE(avi.ok());
    EXPECT_NE(avi.message().find(".mp4"), std::string::npos) << avi.message();

    core::Sequence odd = project.sequence;
    odd.width = 63;
    auto r = render_sequence(project, odd, dir / "odd.mp4", options());
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.message().find("even"), std::string::npos) << r.message();

    core::Sequence empty = project.sequence;
    for (auto& t : empty.tracks) t.clips.clear();
    r = render_sequence(project, empty, dir / "empty.mp4", options());
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.message().find("empty"), std::string::npos) << r.message();

    r = render_sequence(project, project.sequence, dir / "no-such-folder" / "film.mp4", options());
    ASSERT_FALSE(r.ok());
    EXPECT_FALSE(std::filesystem::exists(dir / "odd.mp4"));
    EXPECT_FALSE(std::filesystem::exists(dir / "empty.mp4"));
}

TEST_F(RenderTest, RenderFormatFollowsTheExtension) {
    EXPECT_EQ(*render_format_for("a/FILM.MP4"), RenderFormat::Mp4H264Aac);
    EXPECT_EQ(*render_format_for("film.mov"), RenderFormat::MovProResPcm);
    EXPECT_FALSE(render_format_for("film").ok());
}

}  // namespace
}  // namespace fl::media

namespace fl::media {
namespace {

TEST_F(RenderTest, SequenceFramesShowWhatTheFilmShows) {
    // The studio's preview composites with SequenceFrames: every frame must match the rendered film.
    const auto target = dir / "film.mp4";
    ASSERT_TRUE(render_sequence(project, project.sequence, target, options()).ok());
    auto film = decode_video(target);
    ASSERT_TRUE(film.ok()) << film.message();
    SequenceFrames frames(project, dir.path());
    ASSERT_EQ(frames.frame_count(), 28);
    ASSERT_EQ(film->frame_count(), 28);
    for (int64_t f = 0; f < 28; ++f) {
        auto picture = frames.frame(f);
        ASSERT_TRUE(picture.ok()) << picture.message();
        ASSERT_EQ(picture->width, kSize);
        const Rgb want = mean_centre(film->frames[static_cast<size_t>(f)]);
        SCOPED_TRACE("frame " + std::to_string(f));
        EXPECT_COLOUR_NEAR(*picture, want, 4);
    }
    // Stepping backwards (the preview's J and Left) seeks and gives the same pictures.
    auto again = frames.frame(5);
    ASSERT_TRUE(again.ok());
    EXPECT_COLOUR_NEAR(*again, mean_centre(film->frames[5]), 4);
    auto first = frames.frame(0);
    ASSERT_TRUE(first.ok());
    EXPECT_COLOUR_NEAR(*first, (Rgb{0, 0, 0}), 2);  // frame 0 of the fade-in is black

    // Missing media is an error naming the clip, not a crash.
    std::filesystem::remove(dir / "blue.mp4");
    SequenceFrames offline(project, dir.path());
    auto missing = offline.frame(24);
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.message().find("clip"), std::string::npos) << missing.message();
}

}  // namespace
}  // namespace fl::media
