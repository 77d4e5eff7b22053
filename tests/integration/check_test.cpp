// `frameloom check` on encoded synthetic clips and a project: the JSON a script or the studio reads.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "frameloom/core/project.h"
#include "frameloom/core/project_file.h"
#include "frameloom/media/encode.h"
#include "frameloom/media/probe.h"
#include "support/run_frameloom.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using CheckRun = fl::test::CliRun;
using fl::test::run_frameloom;

/// A red disc moving right over grey; `cast` is added to every pixel (a colour jump).
fl::core::Video moving_disc(int frames, int first, int cast) {
    fl::core::Video v;
    v.fps = {8, 1};
    for (int t = first; t < first + frames; ++t) {
        fl::core::Frame f(64, 48);
        for (int y = 0; y < 48; ++y)
            for (int x = 0; x < 64; ++x) {
                const bool in = std::hypot(x - (12.0 + 3.0 * t), y - 24.0) < 8.0;
                uint8_t* p = f.pixel(x, y);
                const int rgb[3] = {in ? 220 : 120, in ? 40 : 124, in ? 40 : 128};
                for (int c = 0; c < 3; ++c)
                    p[c] = static_cast<uint8_t>(std::clamp(rgb[c] + (c == 2 ? -cast : cast), 0, 255));
            }
        v.frames.push_back(f);
    }
    return v;
}

class Check : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("fl-check-" + std::to_string(::getpid()));
        fs::create_directories(dir_);
        fl::media::set_ffmpeg_verbose(false);
    }
    void TearDown() override { fs::remove_all(dir_); }
    fs::path dir_;
};

TEST_F(Check, JsonForAClipWithAReference) {
    const auto clip = moving_disc(12, 0, 0);
    ASSERT_TRUE(fl::media::encode_mp4(clip, dir_ / "clip.mp4").ok());
    ASSERT_TRUE(fl::media::write_png(clip.frames[0], dir_ / "ref.png").ok());
    const CheckRun r = run_frameloom("check " + (dir_ / "clip.mp4").string() + " --reference " +
                                     (dir_ / "ref.png").string() + " --json");
    ASSERT_EQ(r.status, 0) << r.err;
    const json j = json::parse(r.out);
    EXPECT_EQ(j["frames"], 12);
    EXPECT_LT(j["flicker"].get<double>(), 0.6);
    EXPECT_LT(j["warp_error"].get<double>(), 2.0);
    EXPECT_GE(j["identity"].get<double>(), 0.8);
    EXPECT_LE(j["identity"].get<double>(), 1.0);
    EXPECT_EQ(j["score_curve"].size(), 12u);

    const CheckRun plain =
        run_frameloom("check " + (dir_ / "clip.mp4").string());  // no references: no identity
    ASSERT_EQ(plain.status, 0) << plain.err;
    EXPECT_NE(plain.out.find("warp_error"), std::string::npos);
    EXPECT_EQ(plain.out.find("identity"), std::string::npos);
}

TEST_F(Check, ProjectHasOneSeamPerCutAndFindsTheJump) {
    ASSERT_TRUE(fl::media::encode_mp4(moving_disc(8, 0, 0), dir_ / "a.mp4").ok());
    ASSERT_TRUE(fl::media::encode_mp4(moving_disc(8, 8, 0), dir_ / "b.mp4").ok());
    ASSERT_TRUE(fl::media::encode_mp4(moving_disc(8, 8, 30), dir_ / "c.mp4").ok());
    auto project = fl::core::Project::make_new("check");
    auto& track = project.sequence.tracks.at(0);
    int64_t position = 0;
    for (const char* file : {"a.mp4", "b.mp4", "c.mp4"}) {
        fl::core::Clip clip;
        clip.id = project.fresh_id("clip");
        clip.name = file;
        clip.source.file = file;  // relative to the project's folder
        clip.in = 0;
        clip.out = 8;
        clip.position = position;
        position += 8;
        track.clips.push_back(clip);
    }
    ASSERT_TRUE(fl::core::save_project(project, dir_ / "film.flproj").ok());
    const CheckRun r = run_frameloom("check " + (dir_ / "film.flproj").string() + " --json");
    ASSERT_EQ(r.status, 0) << r.err;
    const json j = json::parse(r.out);
    ASSERT_EQ(j["clips"].size(), 3u);
    for (const auto& c : j["clips"]) {
        EXPECT_TRUE(c.contains("flicker"));
        EXPECT_TRUE(c.contains("warp_error"));
        EXPECT_FALSE(c.contains("identity"));
    }
    ASSERT_EQ(j["seams"].size(), 2u);
    const double continuous = j["seams"][0]["delta_e"], jump = j["seams"][1]["delta_e"];
    EXPECT_LT(continuous, 2.0);
    EXPECT_GT(jump, 3.0 * continuous + 5.0);
    EXPECT_TRUE(j["seams"][1].contains("brightness_jump"));

    const CheckRun text = run_frameloom("check " + (dir_ / "film.flproj").string());
    ASSERT_EQ(text.status, 0) << text.err;
    EXPECT_NE(text.out.find("seam"), std::string::npos);
}

TEST_F(Check, ExtensionSeamsOfAClipAndOfExtendedTakes) {
    // An "extended" clip: 8 source frames, then 8 continuing frames with a colour jump at frame 8.
    fl::core::Video extended = moving_disc(8, 0, 0);
    for (auto& f : moving_disc(8, 8, 30).frames) extended.frames.push_back(f);
    ASSERT_TRUE(fl::media::encode_mp4(moving_disc(8, 0, 0), dir_ / "source.mp4").ok());
    ASSERT_TRUE(fl::media::encode_mp4(extended, dir_ / "extended.mp4").ok());

    const CheckRun clip = run_frameloom("check " + (dir_ / "extended.mp4").string() + " --seam-at 8 --json");
    ASSERT_EQ(clip.status, 0) << clip.err;
    const json c = json::parse(clip.out);
    ASSERT_TRUE(c.contains("extension_seam")) << clip.out;
    EXPECT_EQ(c["extension_seam"]["frame"], 8);
    EXPECT_GT(c["extension_seam"]["delta_e"].get<double>(), 5.0);
    const CheckRun smooth =
        run_frameloom("check " + (dir_ / "extended.mp4").string() + " --seam-at 4 --json");
    ASSERT_EQ(smooth.status, 0) << smooth.err;
    EXPECT_LT(json::parse(smooth.out)["extension_seam"]["delta_e"].get<double>(), 2.0);
    const CheckRun past = run_frameloom("check " + (dir_ / "extended.mp4").string() + " --seam-at 16");
    EXPECT_NE(past.status, 0);
    EXPECT_NE(past.err.find("past the clip"), std::string::npos) << past.err;

    // In a project, a take made by extension with its source kept is measured at the source's end.
    auto project = fl::core::Project::make_new("extended");
    fl::core::Shot shot;
    shot.id = project.fresh_id("shot");
    fl::core::Take take;
    take.id = project.fresh_id("take");
    take.file = "extended.mp4";
    take.params.conditioning.extend = "source.mp4";
    take.params.conditioning.keep_source = true;
    shot.takes.push_back(take);
    shot.selected_take = take.id;
    project.shots.push_back(shot);
    fl::core::Clip on_timeline;
    on_timeline.id = project.fresh_id("clip");
    on_timeline.source.shot_id = shot.id;
    on_timeline.source.take_id = take.id;
    on_timeline.in = 2;  // trimmed: the seam is at frame 8 − 2 of the clip
    on_timeline.out = 16;
    project.sequence.tracks.at(0).clips.push_back(on_timeline);
    ASSERT_TRUE(fl::core::save_project(project, dir_ / "ext.flproj").ok());
    const CheckRun p = run_frameloom("check " + (dir_ / "ext.flproj").string() + " --json");
    ASSERT_EQ(p.status, 0) << p.err;
    const json j = json::parse(p.out);
    ASSERT_EQ(j["clips"].size(), 1u);
    ASSERT_TRUE(j["clips"][0].contains("extension_seam")) << p.out;
    EXPECT_EQ(j["clips"][0]["extension_seam"]["frame"], 6);
    EXPECT_GT(j["clips"][0]["extension_seam"]["delta_e"].get<double>(), 5.0);
}

TEST_F(Check, CorrectMatchesACutAndDeflickers) {
    // b continues a but with a colour cast: matching b to a (with a ramp) removes the jump at the cut.
    ASSERT_TRUE(fl::media::encode_mp4(moving_disc(8, 0, 0), dir_ / "a.mp4").ok());
    ASSERT_TRUE(fl::media::encode_mp4(moving_disc(8, 8, 30), dir_ / "b.mp4").ok());
    const fs::path fixed = dir_ / "b-fixed.mp4";
    const CheckRun r = run_frameloom("correct " + (dir_ / "b.mp4").string() + " --match " +
                                     (dir_ / "a.mp4").string() + " --ramp 6 -o " + fixed.string());
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("b-fixed.mp4"), std::string::npos);
    EXPECT_NE(r.err.find("delta_e"), std::string::npos) << r.err;
    const auto seam_delta_e = [&](const fs::path& after) {
        auto project = fl::core::Project::make_new("cut");
        auto& track = project.sequence.tracks.at(0);
        for (const fs::path& f : {dir_ / "a.mp4", after}) {
            fl::core::Clip clip;
            clip.id = project.fresh_id("clip");
            clip.source.file = f.string();
            clip.out = 8;
            clip.position = track.end();
            track.clips.push_back(clip);
        }
        EXPECT_TRUE(fl::core::save_project(project, dir_ / "cut.flproj").ok());
        const CheckRun c = run_frameloom("check " + (dir_ / "cut.flproj").string() + " --json");
        EXPECT_EQ(c.status, 0) << c.err;
        return json::parse(c.out)["seams"][0]["delta_e"].get<double>();
    };
    const double before = seam_delta_e(dir_ / "b.mp4"), after = seam_delta_e(fixed);
    EXPECT_LT(after * 3.0, before) << "cut ΔE " << before << " -> " << after;

    // Deflicker: a clip whose brightness alternates gets steadier.
    fl::core::Video flicker = moving_disc(12, 0, 0);
    for (size_t i = 1; i < flicker.frames.size(); i += 2)
        for (auto& v : flicker.frames[i].rgb) v = static_cast<uint8_t>(std::min(255, v + 25));
    ASSERT_TRUE(fl::media::encode_mp4(flicker, dir_ / "flicker.mp4").ok());
    const CheckRun d = run_frameloom("correct " + (dir_ / "flicker.mp4").string() + " --deflicker -o " +
                                     (dir_ / "steady.mp4").string());
    ASSERT_EQ(d.status, 0) << d.err;
    const auto flicker_of = [&](const fs::path& clip) {
        const CheckRun c = run_frameloom("check " + clip.string() + " --json");
        EXPECT_EQ(c.status, 0) << c.err;
        return json::parse(c.out)["flicker"].get<double>();
    };
    EXPECT_LT(flicker_of(dir_ / "steady.mp4") * 3.0, flicker_of(dir_ / "flicker.mp4"));

    // Bad input: one line, nothing written.
    const CheckRun none =
        run_frameloom("correct " + (dir_ / "b.mp4").string() + " -o " + (dir_ / "x.mp4").string());
    EXPECT_EQ(none.status, 2);
    EXPECT_NE(none.err.find("nothing to correct"), std::string::npos) << none.err;
    const CheckRun missing =
        run_frameloom("correct " + (dir_ / "b.mp4").string() + " --match " + (dir_ / "absent.png").string() +
                      " -o " + (dir_ / "x.mp4").string());
    EXPECT_NE(missing.status, 0);
    EXPECT_EQ(std::count(missing.err.begin(), missing.err.end(), '\n'), 1) << missing.err;
    EXPECT_FALSE(fs::exists(dir_ / "x.mp4"));
}

TEST_F(Check, HelpAndOneLineErrors) {
    const CheckRun help = run_frameloom("check --help");
    EXPECT_EQ(help.status, 0);
    EXPECT_NE(help.out.find("usage"), std::string::npos);
    const auto one_line = [](const CheckRun& r, const std::string& needle) {
        EXPECT_NE(r.status, 0);
        EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
        EXPECT_EQ(r.err.rfind("frameloom: ", 0), 0u) << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    };
    one_line(run_frameloom("check"), "one clip or project");
    one_line(run_frameloom("check " + (dir_ / "absent.mp4").string()), "not found");
    std::ofstream(dir_ / "broken.flproj") << "{ not json";
    one_line(run_frameloom("check " + (dir_ / "broken.flproj").string()), "broken.flproj");
    ASSERT_TRUE(fl::media::encode_mp4(moving_disc(4, 0, 0), dir_ / "clip.mp4").ok());
    one_line(run_frameloom("check " + (dir_ / "clip.mp4").string() + " --reference " +
                           (dir_ / "nope.png").string()),
             "--reference");
}

}  // namespace
