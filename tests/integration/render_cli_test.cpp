// `frameloom render` and `frameloom synth-music` as a user runs them: a project with two clips, a crossfade
// and a synthesised music track becomes a film; bad input gives one line and no file.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "frameloom/core/project_file.h"
#include "frameloom/media/audio.h"
#include "frameloom/media/decode.h"
#include "frameloom/media/encode.h"
#include "frameloom/media/probe.h"
#include "support/run_frameloom.h"
#include "support/temp_dir.h"

namespace fs = std::filesystem;

namespace {

using fl::test::CliRun;
using fl::test::run_frameloom;

void expect_one_line_error(const CliRun& r, const std::string& needle) {
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
    EXPECT_EQ(r.err.rfind("frameloom: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

fl::core::Video solid(uint8_t r, uint8_t g, uint8_t b, int frames) {
    fl::core::Video v;
    v.fps = {8, 1};
    for (int i = 0; i < frames; ++i) {
        fl::core::Frame f(32, 32);
        for (size_t p = 0; p < f.rgb.size(); p += 3) f.rgb[p] = r, f.rgb[p + 1] = g, f.rgb[p + 2] = b;
        v.frames.push_back(std::move(f));
    }
    return v;
}

class RenderCli : public ::testing::Test {
protected:
    static void SetUpTestSuite() { fl::media::set_ffmpeg_verbose(false); }

    void SetUp() override {
        fl::media::EncodeOptions fast;
        fast.preset = "ultrafast";
        ASSERT_TRUE(fl::media::encode_mp4(solid(200, 40, 40, 12), dir / "a.mp4", fast).ok());
        ASSERT_TRUE(fl::media::encode_mp4(solid(40, 40, 200, 12), dir / "b.mp4", fast).ok());
        fl::media::MusicOptions music;
        music.seconds = 3;
        ASSERT_TRUE(fl::media::write_wav(fl::media::synthesize_music(music), dir / "music.wav").ok());

        fl::core::Project p = fl::core::Project::make_new("cli film");
        p.sequence.fps = {8, 1};
        p.sequence.width = 32;
        p.sequence.height = 32;
        const auto clip = [](const std::string& id, const std::string& file, int64_t out, int64_t position) {
            fl::core::Clip c;
            c.id = id;
            c.source.file = file;
            c.out = out;
            c.position = position;
            return c;
        };
        p.sequence.tracks[0].clips.push_back(clip("clip-10", "a.mp4", 12, 0));
        p.sequence.tracks[0].clips.push_back(clip("clip-11", "b.mp4", 12, 8));  // 4-frame crossfade
        p.sequence.tracks[0].clips[1].transition_in = 4;
        p.sequence.tracks[0].clips[1].fade_out = 4;
        fl::core::Track music_track;
        music_track.id = "track-12";
        music_track.kind = fl::core::TrackKind::Audio;
        music_track.clips.push_back(clip("clip-13", "music.wav", 20, 0));
        music_track.clips[0].gain_db = -3;
        p.sequence.tracks.push_back(music_track);
        p.next_id = 20;
        ASSERT_TRUE(fl::core::save_project(p, dir / "film.flproj").ok());
    }

    fl::test::TempDir dir{"fl-render-cli"};
};

TEST_F(RenderCli, RendersAProjectToMp4WithMusicFromSynthMusic) {
    const CliRun music = run_frameloom("synth-music -o " + (dir / "music.wav").string() + " --seconds 3 --seed 2");
    ASSERT_EQ(music.status, 0) << music.err;
    EXPECT_EQ(music.out, (dir / "music.wav").string() + "\n");
    const fs::path mp4 = dir / "film.mp4";
    const CliRun r = run_frameloom("render " + (dir / "film.flproj").string() + " -o " + mp4.string() + " --preset ultrafast");
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, mp4.string() + "\n");
    EXPECT_NE(r.err.find("rendering"), std::string::npos) << r.err;  // the progress bar
    auto info = fl::media::probe(mp4);
    ASSERT_TRUE(info.ok()) << info.message();
    EXPECT_EQ(info->frame_count, 20);  // 12 + 12 − 4 overlapping
    EXPECT_TRUE(info->has_audio);
    auto audio = fl::media::decode_audio(mp4);
    ASSERT_TRUE(audio.ok()) << audio.message();
    EXPECT_NEAR(audio->duration_seconds(), 2.5, 0.03);
}

TEST_F(RenderCli, RendersAProjectToProResMov) {
    const fs::path mov = dir / "film.mov";
    const CliRun m = run_frameloom("render " + (dir / "film.flproj").string() + " -o " + mov.string());
    ASSERT_EQ(m.status, 0) << m.err;
    auto info = fl::media::probe(mov);
    ASSERT_TRUE(info.ok()) << info.message();
    EXPECT_EQ(info->video_codec, "prores");
    EXPECT_EQ(info->frame_count, 20);
}

TEST_F(RenderCli, BadArgumentsGiveOneLine) {
    const std::string project = (dir / "film.flproj").string();
    expect_one_line_error(run_frameloom("render " + project), "-o");
    expect_one_line_error(run_frameloom("render " + project + " -o " + (dir / "film.avi").string()), ".mp4");
    expect_one_line_error(run_frameloom("render " + project + " -o " + (dir / "x.mp4").string() + " --sequence Other"),
                          "no sequence 'Other'");
    EXPECT_FALSE(fs::exists(dir / "x.mp4"));
    EXPECT_FALSE(fs::exists(dir / "film.avi"));
}

TEST_F(RenderCli, MissingProjectOrMediaGiveOneLineAndNoFile) {
    expect_one_line_error(run_frameloom("render " + (dir / "none.flproj").string() + " -o " + (dir / "x.mp4").string()),
                          "none.flproj");
    fs::remove(dir / "b.mp4");
    expect_one_line_error(run_frameloom("render " + (dir / "film.flproj").string() + " -o " + (dir / "x.mp4").string()),
                          "b.mp4");
    EXPECT_FALSE(fs::exists(dir / "x.mp4"));
}

TEST_F(RenderCli, SynthMusicNeedsALength) {
    expect_one_line_error(run_frameloom("synth-music -o " + (dir / "m.wav").string()), "--seconds");
    EXPECT_FALSE(fs::exists(dir / "m.wav"));
}

}  // namespace
