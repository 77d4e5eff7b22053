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
