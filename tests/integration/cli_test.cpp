// The frameloom command line as a user runs it: exit status and a one-line reason on bad input.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "frameloom/core/project_file.h"
#include "frameloom/inference/safetensors.h"
#include "frameloom/media/probe.h"
#include "support/run_frameloom.h"

namespace fs = std::filesystem;

namespace {

using fl::test::CliRun;
CliRun run(const std::string& args) { return fl::test::run_frameloom(args); }

void expect_one_line_error(const CliRun& r, const std::string& needle) {
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
    // The last stderr line is the reason: "frameloom: ...".
    EXPECT_EQ(r.err.rfind("frameloom: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

class Cli : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("fl-cli-" + std::to_string(::getpid()));
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }
    fs::path dir_;
};

TEST_F(Cli, HelpEverywhere) {
    for (const char* cmd : {"--help", "generate --help", "models --help", "probe --help", "bench --help",
                            "init-model --help", "check --help", "parity --help", "sheet --help"}) {
        const CliRun r = run(cmd);
        EXPECT_EQ(r.status, 0) << cmd;
        EXPECT_NE(r.out.find("usage"), std::string::npos) << cmd;
    }
}

TEST_F(Cli, GeneratesAShotAndPrintsItsPath) {
    const fs::path out = dir_ / "shot.mp4";
    const CliRun r = run(
        "generate --prompt 'a blue square moving up on a gray background' --steps 2 --frames 5 --seed 3 -o " +
        out.string());
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_TRUE(fs::exists(out));
    EXPECT_NE(r.out.find(out.filename().string()), std::string::npos);
    const CliRun probe = run("probe " + out.string());
    EXPECT_EQ(probe.status, 0) << probe.err;
    EXPECT_NE(probe.out.find("h264"), std::string::npos) << probe.out;

    // A contact sheet of the 5 frames, 3 per row, 64 px frames enlarged 3x: 2 rows with 2 px gaps.
    const fs::path sheet = dir_ / "sheet.png";
    const CliRun s = run("sheet " + out.string() + " --columns 3 -o " + sheet.string());
    ASSERT_EQ(s.status, 0) << s.err;
    auto info = fl::media::probe(sheet);
    ASSERT_TRUE(info.ok()) << info.message();
    EXPECT_EQ(info->width, 3 * 192 + 2 * 2);
    EXPECT_EQ(info->height, 2 * 192 + 2);
    expect_one_line_error(run("sheet " + out.string()), "-o");
    expect_one_line_error(run("sheet " + out.string() + " --every 0 -o " + sheet.string()), "at least 1");
}

TEST_F(Cli, GenerateHelpListsSamplers) {
    const CliRun r = run("generate --help");
    EXPECT_NE(r.out.find("--sampler S        euler, unipc"), std::string::npos) << r.out;
    EXPECT_NE(run("--help").out.find("parity"), std::string::npos);
}

TEST_F(Cli, GeneratesWithEachSampler) {
    for (const char* sampler : {"unipc", "dpm++"}) {
        const fs::path out = dir_ / (std::string("shot-") + (sampler[0] == 'u' ? "unipc" : "dpm") + ".mp4");
        const CliRun r =
            run(std::string("generate --prompt 'a red circle' --steps 3 --frames 2 --seed 1 --sampler ") +
                sampler + " -o " + out.string());
        ASSERT_EQ(r.status, 0) << sampler << ": " << r.err;
        EXPECT_TRUE(fs::exists(out)) << sampler;
        EXPECT_NE(r.err.find(std::string("3 ") + sampler + " steps"), std::string::npos) << r.err;
    }
}

TEST_F(Cli, BadInputsGiveOneLineReasons) {
    const std::string out = (dir_ / "x.mp4").string();
    expect_one_line_error(run("generate --prompt hi --model nope -o " + out), "unknown model");
    expect_one_line_error(run("generate --prompt hi --size 72x64 -o " + out), "divisible by 16");
    expect_one_line_error(run("generate --prompt hi --frames 0 -o " + out), "frames");
    expect_one_line_error(run("generate --prompt hi --frames -3 -o " + out), "frames");
    expect_one_line_error(run("generate --prompt hi --steps x -o " + out), "--steps");
    expect_one_line_error(run("generate --prompt hi --bogus 1 -o " + out), "unknown option");
    expect_one_line_error(run("generate -o " + out), "--prompt");
    expect_one_line_error(run("generate --prompt hi --device tpu -o " + out), "unknown device");
    expect_one_line_error(run("generate --prompt hi --sampler ddim -o " + out),
                          "--sampler: expected euler, unipc or dpm++, got 'ddim'");
    expect_one_line_error(run("generate --prompt hi -o " + out + " --sampler"), "--sampler needs a value");
    expect_one_line_error(
        run("generate --prompt hi --steps 1 --frames 1 -o " + (dir_ / "missing" / "x.mp4").string()),
        "does not exist");
    EXPECT_FALSE(fs::exists(out));
    expect_one_line_error(run("frobnicate"), "unknown command");

    const fs::path text = dir_ / "notes.mp4";
    std::ofstream(text) << "this is not a video\n";
    expect_one_line_error(run("probe " + text.string()), "not a video");
    expect_one_line_error(run("generate --prompt hi --mask " + text.string() + " -o " + out),
                          "--mask needs the clip it masks: add --video CLIP");
    expect_one_line_error(
        run("generate --prompt hi --video " + text.string() + " --first-frame x.png -o " + out),
        "--video gives every frame of the shot");
    expect_one_line_error(run("generate --prompt hi --video " + text.string() + " -o " + out), "--video");
    EXPECT_FALSE(fs::exists(out));
    expect_one_line_error(run("init-model --temporal-patch 3 --out " + (dir_ / "m").string()),
                          "--temporal-patch must divide the clip's 16 frames");
    expect_one_line_error(run("init-model --detail-head -5 --out " + (dir_ / "m").string()),
                          "--detail-head must be from 1 to 4096 hidden units");
    expect_one_line_error(run("init-model --text-len 4 --out " + (dir_ / "m").string()),
                          "--text-len must be from 8 to 512 tokens");
    EXPECT_FALSE(fs::exists(dir_ / "m" / "shapes-tiny.json"));
    expect_one_line_error(run("probe " + (dir_ / "absent.mp4").string()), "not found");
}

TEST_F(Cli, InterruptLeavesNoFileBehind) {
    // Ctrl-C during a long generation: exit 130, no target, no temp file in the folder.
    const fs::path out = dir_ / "long.mp4";
    const std::string cmd = "timeout --preserve-status -s INT 4 " + std::string(FL_BIN_DIR) +
                            "/frameloom generate --prompt hi --steps 1000 --seed 1 -o " + out.string() +
                            " 2>/dev/null";
    const int status = std::system(cmd.c_str());
    EXPECT_EQ(WEXITSTATUS(status), 130);
    EXPECT_TRUE(fs::is_empty(dir_)) << "left " << fs::directory_iterator(dir_)->path();
}

TEST_F(Cli, InitModelIsDeterministicAndBuildsTheCommittedArchitecture) {
    // The committed weights are trained (`frameloom train shapes`, see the card), so they differ from the
    // seeded initialisation; what must hold: the same seed writes the same bytes, the tokenizer is the one
    // committed (training does not touch it), and the committed files hold exactly the tensors (names and
    // shapes) that init-model creates.
    // The command is the one the committed card names, so the card cannot drift from what it documents.
    std::ifstream card_in(fs::path(FL_SOURCE_MODELS_DIR) / "shapes-tiny.json");
    const auto card = nlohmann::json::parse(card_in);
    const std::string command = card["build"]["command"].get<std::string>();
    ASSERT_EQ(command.rfind("frameloom init-model ", 0), 0u) << command;
    const std::string args = command.substr(std::string("frameloom ").size());
    const fs::path a = dir_ / "a", b = dir_ / "b";
    ASSERT_EQ(run(args + " --out " + a.string()).status, 0) << args;
    ASSERT_EQ(run(args + " --out " + b.string()).status, 0) << args;
    const auto bytes = [](const fs::path& path) {
        std::ifstream in(path, std::ios::binary);
        return std::string((std::istreambuf_iterator<char>(in)), {});
    };
    for (const char* rel :
         {"shapes-tiny.json", "diffusion_models/shapes-tiny.safetensors",
          "text_encoders/shapes-tiny-t5.safetensors", "text_encoders/shapes-tiny-spm.model"}) {
        EXPECT_FALSE(bytes(a / rel).empty()) << rel;
        EXPECT_TRUE(bytes(a / rel) == bytes(b / rel)) << rel << " differs between two runs with seed 0";
    }
    EXPECT_TRUE(bytes(a / "text_encoders/shapes-tiny-spm.model") ==
                bytes(fs::path(FL_SOURCE_MODELS_DIR) / "text_encoders/shapes-tiny-spm.model"))
        << "the committed tokenizer is not the one init-model trains";
    for (const char* rel :
         {"diffusion_models/shapes-tiny.safetensors", "text_encoders/shapes-tiny-t5.safetensors"}) {
        auto fresh = fl::inference::SafeTensorsFile::open(a / rel);
        auto committed = fl::inference::SafeTensorsFile::open(fs::path(FL_SOURCE_MODELS_DIR) / rel);
        ASSERT_TRUE(fresh.ok() && committed.ok()) << rel;
        ASSERT_EQ(fresh->tensors().size(), committed->tensors().size()) << rel;
        EXPECT_EQ(fresh->metadata(), committed->metadata()) << rel << ": text_len, heads or type differ";
        for (const auto& t : fresh->tensors()) {
            const auto* other = committed->find(t.name);
            ASSERT_NE(other, nullptr) << rel << ": " << t.name << " missing in the committed file";
            EXPECT_EQ(other->shape, t.shape) << rel << ": " << t.name;
        }
    }
}

TEST_F(Cli, TrainRejectsBadSettingsBeforeTouchingAnything) {
    // Each bad value is one line naming the option, exit status 2, and no checkpoint or log is written.
    const fs::path state = dir_ / "state.safetensors", log = dir_ / "loss.csv";
    const std::string files = " --checkpoint " + state.string() + " --log " + log.string();
    for (const auto& [args, option] : std::vector<std::pair<std::string, std::string>>{
             {"train shapes --shift 0", "--shift"},
             {"train shapes --first-frame-share 1.5", "--first-frame-share"},
             {"train shapes --first-frame-share half", "--first-frame-share"},
             {"train shapes --motion-drill-share -0.1", "--motion-drill-share"},
             {"train shapes --shift lots", "--shift"},
             {"train shapes --object-weight 0.5", "--object-weight"},
             {"train shapes --loss-cap -1", "--loss-cap"},
             {"train pictures", "train shapes"}}) {
        const CliRun r = run(args + files);
        EXPECT_EQ(r.status, 2) << args;
        EXPECT_NE(r.err.find(option), std::string::npos) << args << ": " << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << args << ": " << r.err;
    }
    EXPECT_FALSE(fs::exists(state));
    EXPECT_FALSE(fs::exists(log));
}

TEST_F(Cli, EvalWordsRejectsBadInputInOneLine) {
    for (const auto& [args, needle] : std::vector<std::pair<std::string, std::string>>{
             {"eval words --clips 0", "--clips"},
             {"eval words --first-frame --clips 0", "--clips"},
             {"eval words --threads 0", "--threads"},
             {"eval words --model no-such-model", "no-such-model"},
             {"eval words --model wan2.1-t2v-1.3b", "shapes-world"},
             {"eval sounds", "eval words"}}) {
        const CliRun r = run(args);
        EXPECT_NE(r.status, 0) << args;
        EXPECT_NE(r.err.find(needle), std::string::npos) << args << ": " << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << args << ": " << r.err;
    }
}

TEST_F(Cli, ModelsListsTheDefaultModel) {
    const CliRun r = run("models");
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("shapes-tiny (default)"), std::string::npos) << r.out;
}

/// A store of its own in front of the repository's models/: one shipped card copied in, some of its files
/// faked.
class CliStore : public Cli {
protected:
    void SetUp() override {
        Cli::SetUp();
        store_ = dir_ / "store";
        for (const char* sub : {"diffusion_models", "text_encoders/umt5-xxl", "vae"})
            fs::create_directories(store_ / sub);
        for (const char* id : {"wan2.1-i2v-14b-480p", "wan2.1-t2v-1.3b"})
            fs::copy_file(fs::path(FL_SOURCE_MODELS_DIR) / (std::string(id) + ".json"),
                          store_ / (std::string(id) + ".json"));
        ::setenv("FRAMELOOM_MODELS", store_.c_str(), 1);
    }
    void TearDown() override {
        ::unsetenv("FRAMELOOM_MODELS");
        Cli::TearDown();
    }
    void touch(const std::string& rel) { std::ofstream(store_ / rel) << "x"; }
    fs::path store_;
};

TEST_F(CliStore, ModelsSaysWhatEachCardLacksAndWhereToGetIt) {
    // Everything the i2v card needs but the CLIP vision encoder (an fp8 DiT and the fp8 text encoder, its
    // alternatives).
    touch("diffusion_models/wan2.1_i2v_480p_14B_fp8_e4m3fn.safetensors");
    touch("text_encoders/umt5_xxl_fp8_e4m3fn_scaled.safetensors");
    touch("text_encoders/umt5-xxl/spiece.model");
    touch("vae/wan_2.1_vae.safetensors");
    touch("diffusion_models/foo.safetensors");
    const CliRun r = run("models");
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("shapes-tiny (default)  [ready"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("wan2.1-i2v-14b-480p  [missing 1 of 5 files]"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(
                  "wan2.1-i2v-14b-480p: CLIP vision encoder missing (clip_vision/clip_vision_h.safetensors)\n"
                  "      get it from https://huggingface.co/Comfy-Org/Wan_2.1_ComfyUI_repackaged/"),
              std::string::npos)
        << r.out;
    EXPECT_EQ(r.out.find("wan2.1-i2v-14b-480p: diffusion model missing"), std::string::npos) << r.out;
    EXPECT_NE(
        r.out.find(
            "wan2.1-t2v-1.3b: diffusion model missing (diffusion_models/wan2.1_t2v_1.3B_fp16.safetensors)"),
        std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("unrecognised: diffusion_models/foo.safetensors"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("unrecognised: diffusion_models/wan2.1_i2v"), std::string::npos) << r.out;
    // Every shipped card is listed (the others come from the repository's models/).
    for (const char* id : {"wan2.1-t2v-14b", "wan2.1-i2v-14b-720p", "wan2.1-flf2v-14b-720p",
                           "wan2.1-vace-1.3b", "wan2.2-ti2v-5b"})
        EXPECT_NE(r.out.find(std::string("\n") + id + "  ["), std::string::npos) << id << "\n" << r.out;

    touch("clip_vision_h.safetensors");  // in the wrong folder: still missing
    EXPECT_NE(run("models").out.find("wan2.1-i2v-14b-480p  [missing 1 of 5 files]"), std::string::npos);
    fs::create_directories(store_ / "clip_vision");
    touch("clip_vision/clip_vision_h.safetensors");
    EXPECT_NE(run("models").out.find("wan2.1-i2v-14b-480p  [ready]"), std::string::npos);
}

TEST_F(CliStore, ModelsJsonForScripts) {
    touch("vae/wan_2.1_vae.safetensors");
    touch("diffusion_models/foo.safetensors");
    const CliRun r = run("models --json");
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_TRUE(r.err.empty()) << r.err;
    ASSERT_FALSE(r.out.empty());
    EXPECT_EQ(r.out.front(), '{') << r.out;
    // Checked as text: the test binary does not link a JSON parser. Keys and values as dump(2) writes them.
    for (const char* needle :
         {"\"id\": \"wan2.1-t2v-1.3b\"", "\"ready\": false", "\"ready\": true", "\"role\": \"clip_vision\"",
          "\"what\": \"CLIP vision encoder\"", "\"path\": \"clip_vision/clip_vision_h.safetensors\"",
          "\"path\": \"diffusion_models/foo.safetensors\"", "\"unrecognised\": [", "\"sampler\": \"unipc\"",
          "\"832x480\""})
        EXPECT_NE(r.out.find(needle), std::string::npos) << needle << "\n" << r.out;
    EXPECT_EQ(run("models --bogus").status, 2);
}

TEST_F(CliStore, GenerateWithMissingFilesSaysWhichAndWhere) {
    touch("vae/wan_2.1_vae.safetensors");
    const fs::path out = dir_ / "shot.mp4";
    const CliRun r = run("generate --model wan2.1-t2v-1.3b --prompt hi -o " + out.string());
    expect_one_line_error(r,
                          "model 'wan2.1-t2v-1.3b' is missing diffusion model "
                          "(diffusion_models/wan2.1_t2v_1.3B_fp16.safetensors)");
    EXPECT_NE(r.err.find("text_encoders/umt5_xxl_fp16.safetensors"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("text_encoders/umt5-xxl/spiece.model"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("vae/"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(store_.string()), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(out));
}

}  // namespace

namespace {

TEST_F(Cli, DemoBuildsAProjectThatRendersInOneCommand) {
    const CliRun demo = run("demo --out " + (dir_ / "demo").string());
    ASSERT_EQ(demo.status, 0) << demo.err;
    const fs::path project_file = dir_ / "demo" / "shapes-demo.flproj";
    EXPECT_NE(demo.out.find(project_file.string()), std::string::npos) << demo.out;
    auto project = fl::core::load_project(project_file);
    ASSERT_TRUE(project.ok()) << project.message();
    ASSERT_EQ(project->shots.size(), 4u);
    EXPECT_FALSE(project->shots[1].params.conditioning.extend.empty());      // an extension of shot 1
    EXPECT_EQ(project->shots[3].params.conditioning.references.size(), 1u);  // a reference image
    for (const auto& shot : project->shots) EXPECT_EQ(shot.takes.size(), 1u) << shot.name;
    int audio_tracks = 0;
    for (const auto& track : project->sequence.tracks)
        audio_tracks += track.kind == fl::core::TrackKind::Audio;
    EXPECT_EQ(audio_tracks, 1);

    const fs::path film = dir_ / "film.mp4";
    const CliRun render = run("render " + project_file.string() + " -o " + film.string());
    ASSERT_EQ(render.status, 0) << render.err;
    auto info = fl::media::probe(film);
    ASSERT_TRUE(info.ok()) << info.message();
    EXPECT_EQ(info->frame_count, project->sequence.duration());
    EXPECT_TRUE(info->has_audio);
}

}  // namespace
