// `frameloom parity` on the goldens in tests/data/goldens: the reported max |delta| and the written file.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "frameloom/inference/safetensors.h"
#include "support/run_frameloom.h"

namespace fs = std::filesystem;

namespace {

using CliResult = fl::test::CliRun;
CliResult frameloom(const std::string& args) { return fl::test::run_frameloom(args); }

/// Every "NAME [shape] max |delta| = X" line of the report.
std::map<std::string, double> reported_deltas(const std::string& out) {
    std::map<std::string, double> deltas;
    const std::regex line(R"(^\s+(\S+)\s+\[[0-9,]*\]\s+max \|delta\| = (\S+))");
    std::istringstream in(out);
    std::string text;
    while (std::getline(in, text)) {
        std::smatch m;
        if (std::regex_search(text, m, line)) deltas[m[1]] = std::stod(m[2]);
    }
    return deltas;
}

class Parity : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("fl-parity-" + std::to_string(::getpid()));
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    /// Runs parity on a golden, checks every reported delta and the written file's tensor names.
    void check(const std::string& stem, const std::set<std::string>& expected_names) {
        const fs::path prefix = fs::path(FL_TEST_DATA_DIR) / "goldens" / stem;
        const fs::path out = dir_ / (stem + ".out.safetensors");
        const CliResult r = frameloom("parity " + prefix.string() + " --write " + out.string());
        ASSERT_EQ(r.status, 0) << r.out << r.err;
        std::printf("%s", r.out.c_str());
        const auto deltas = reported_deltas(r.out);
        std::set<std::string> reported;
        for (const auto& [name, delta] : deltas) {
            reported.insert(name);
            EXPECT_LE(delta, 1e-4) << stem << " " << name;
        }
        EXPECT_EQ(reported, expected_names) << r.out;
        EXPECT_NE(r.out.find(": ok"), std::string::npos) << r.out;

        auto written = fl::inference::SafeTensorsFile::open(out);
        ASSERT_TRUE(written.ok()) << written.message();
        std::set<std::string> names;
        for (const auto& t : written->tensors()) names.insert(t.name);
        EXPECT_EQ(names, expected_names);
        auto golden = fl::inference::SafeTensorsFile::open(fs::path(prefix.string() + ".io.safetensors"));
        ASSERT_TRUE(golden.ok());
        for (const auto& t : written->tensors()) {
            const auto* g = golden->find(t.name);
            ASSERT_NE(g, nullptr) << t.name;
            EXPECT_EQ(t.shape, g->shape) << t.name;
            EXPECT_EQ(t.dtype, g->dtype) << t.name;
        }
        EXPECT_EQ(written->metadata().at("component"), golden->metadata().at("component"));
    }
    fs::path dir_;
};

TEST_F(Parity, WanDiTT2V) { check("wan_dit_t2v_tiny", {"out.0", "out.1"}); }

TEST_F(Parity, WanDiTTI2V) { check("wan22_dit_ti2v_tiny", {"out.0"}); }

TEST_F(Parity, UMT5Encoder) { check("umt5_tiny", {"out"}); }

TEST_F(Parity, WanVAE) { check("wan_vae_tiny", {"latent", "decoded"}); }

TEST_F(Parity, Wan22VAE) { check("wan22_vae_tiny", {"latent", "decoded"}); }

TEST_F(Parity, CLIPVision) { check("clip_vision_tiny", {"pixels", "out"}); }

TEST_F(Parity, FlowUniPC) {
    std::set<std::string> names = {"timesteps", "sigmas"};
    for (int k = 0; k < 12; ++k) names.insert("x." + std::to_string(k));
    check("unipc_flow_12steps_shift5", names);
}

TEST_F(Parity, PendingAndBadInputsGiveOneLineErrors) {
    // A golden of a component this port does not know.
    const fs::path s2v = dir_ / "s2v_tiny.io.safetensors";
    ASSERT_TRUE(fl::inference::write_safetensors(
                    s2v, {{"video", fl::inference::DType::F32, {1}, std::vector<uint8_t>(4)}},
                    {{"component", "wan-s2v"}})
                    .ok());
    CliResult r = frameloom("parity " + (dir_ / "s2v_tiny").string());
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.err, "frameloom: parity: unknown component 'wan-s2v' in " + s2v.string() + "\n");
    r = frameloom("parity " + (dir_ / "absent").string());
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    r = frameloom("parity");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("one golden prefix"), std::string::npos) << r.err;
    // A golden that needs weights, without them.
    fs::copy_file(fs::path(FL_TEST_DATA_DIR) / "goldens" / "umt5_tiny.io.safetensors",
                  dir_ / "lonely.io.safetensors");
    r = frameloom("parity " + (dir_ / "lonely").string());
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("lonely.weights.safetensors"), std::string::npos) << r.err;
}

}  // namespace
