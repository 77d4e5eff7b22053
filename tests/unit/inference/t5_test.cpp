#include "inference/arch/wan/t5.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "inference/tensor_io.h"

namespace fl::inference::wan {
namespace {
namespace fs = std::filesystem;

const fs::path kGoldens = fs::path(FL_TEST_DATA_DIR) / "goldens";

/// The table of reference/wan.md §2 for a = |rel| on one side.
int64_t table_bucket(int64_t a) {
    if (a <= 7) return a;
    if (a <= 11) return 8;
    if (a <= 15) return 9;
    if (a <= 22) return 10;
    if (a <= 31) return 11;
    if (a <= 45) return 12;
    if (a <= 63) return 13;
    if (a <= 90) return 14;
    return 15;
}

TEST(T5Bucket, MatchesReferenceTable) {
    for (int64_t rel = -600; rel <= 600; ++rel) {
        const int64_t expected = rel > 0 ? 16 + table_bucket(rel) : table_bucket(-rel);
        EXPECT_EQ(t5_relative_bucket(rel, 32, 128), expected) << "rel " << rel;
    }
    EXPECT_EQ(t5_relative_bucket(1, 32, 128), 17);
    EXPECT_EQ(t5_relative_bucket(7, 32, 128), 23);
}

class T5Golden : public ::testing::Test {
protected:
    void SetUp() override {
        torch::set_num_threads(2);
        auto w = SafeTensorsFile::open(kGoldens / "umt5_tiny.weights.safetensors");
        ASSERT_TRUE(w.ok()) << w.message();
        auto io = SafeTensorsFile::open(kGoldens / "umt5_tiny.io.safetensors");
        ASSERT_TRUE(io.ok()) << io.message();
        weights_ = std::make_unique<SafeTensorsFile>(std::move(w.value()));
        io_ = std::make_unique<SafeTensorsFile>(std::move(io.value()));

        // The reference constructor arguments, from the golden's metadata.
        const auto j = nlohmann::json::parse(weights_->metadata().at("config"));
        config_.vocab = j.at("vocab").get<int64_t>();
        config_.dim = j.at("dim").get<int64_t>();
        config_.dim_attn = j.at("dim_attn").get<int64_t>();
        config_.dim_ffn = j.at("dim_ffn").get<int64_t>();
        config_.num_heads = j.at("num_heads").get<int64_t>();
        config_.num_layers = j.at("num_layers").get<int64_t>();
        config_.num_buckets = j.at("num_buckets").get<int64_t>();
        config_.shared_pos = j.at("shared_pos").get<bool>();

        model_ = T5Encoder(config_);
        auto loaded = load_module(*model_, *weights_);
        ASSERT_TRUE(loaded.ok()) << loaded.message();
        model_->eval();
    }
    torch::Tensor io(const std::string& name) {
        auto t = read_tensor(*io_, name);
        EXPECT_TRUE(t.ok()) << t.message();
        return t.ok() ? t.value() : torch::Tensor();
    }

    std::unique_ptr<SafeTensorsFile> weights_, io_;
    T5Config config_;
    T5Encoder model_{nullptr};
};

TEST_F(T5Golden, ConfigFromWeightsMatchesMetadata) {
    auto c = T5Config::from_weights(*weights_);
    ASSERT_TRUE(c.ok()) << c.message();
    EXPECT_EQ(c->vocab, config_.vocab);
    EXPECT_EQ(c->dim, config_.dim);
    EXPECT_EQ(c->dim_attn, config_.dim_attn);
    EXPECT_EQ(c->dim_ffn, config_.dim_ffn);
    EXPECT_EQ(c->num_heads, config_.num_heads);
    EXPECT_EQ(c->num_layers, config_.num_layers);
    EXPECT_EQ(c->num_buckets, config_.num_buckets);
    EXPECT_EQ(c->shared_pos, config_.shared_pos);
    EXPECT_EQ(c->max_dist, 128);
}

TEST_F(T5Golden, ReproducesReferenceOutput) {
    torch::NoGradGuard no_grad;
    const torch::Tensor ids = io("ids"), mask = io("mask"), expected = io("out");
    const torch::Tensor out = model_(ids, mask);
    ASSERT_EQ(out.sizes(), expected.sizes());
    const double max_diff = (out - expected).abs().max().item<double>();
    std::printf("umt5_tiny max |delta| = %.3g\n", max_diff);
    RecordProperty("max_abs_diff", std::to_string(max_diff));
    EXPECT_LE(max_diff, 1e-4);
}

TEST_F(T5Golden, UnpaddedEqualsPaddedThenSliced) {
    torch::NoGradGuard no_grad;
    const torch::Tensor ids = io("ids"), mask = io("mask");
    const torch::Tensor padded = model_(ids, mask);
    for (int64_t b = 0; b < ids.size(0); ++b) {
        const int64_t n = mask[b].sum().item<int64_t>();
        ASSERT_GT(n, 0);
        const torch::Tensor row_ids = ids.slice(0, b, b + 1).slice(1, 0, n);
        const torch::Tensor alone = model_(row_ids, torch::ones_like(row_ids));
        const double diff = (alone[0] - padded[b].slice(0, 0, n)).abs().max().item<double>();
        EXPECT_LE(diff, 1e-5) << "row " << b << " with " << n << " tokens";
    }
}

TEST_F(T5Golden, ModuleNamesAreCheckpointKeys) {
    std::set<std::string> names;
    for (const auto& item : model_->named_parameters()) names.insert(item.key());
    std::set<std::string> keys;
    for (const auto& t : weights_->tensors()) keys.insert(t.name);
    EXPECT_EQ(names, keys);
}

TEST(T5Config, FromWeightsNamesMissingKeys) {
    std::string tmpl = (fs::temp_directory_path() / "fl-t5-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    const fs::path dir = tmpl;
    ASSERT_TRUE(write_safetensors(dir / "e.safetensors", {to_blob("token_embedding.weight", torch::zeros({8, 4}))}).ok());
    auto f = SafeTensorsFile::open(dir / "e.safetensors");
    ASSERT_TRUE(f.ok());
    auto c = T5Config::from_weights(*f);
    ASSERT_FALSE(c.ok());
    EXPECT_NE(c.message().find("'blocks.0.attn.q.weight'"), std::string::npos) << c.message();
    fs::remove_all(dir);
}

// Classic T5 (one bias table shared by all layers): config inferred, and padding still only masks keys.
TEST(T5Encoder, SharedPositionTableRoundTrip) {
    torch::manual_seed(3);
    T5Config config;
    config.vocab = 50;
    config.dim = config.dim_attn = 16;
    config.dim_ffn = 24;
    config.num_heads = 2;
    config.num_layers = 2;
    config.num_buckets = 8;
    config.max_dist = 20;
    config.shared_pos = true;
    T5Encoder model(config);
    for (auto& p : model->parameters()) p.data().normal_(0.0, 0.5);

    std::string tmpl = (fs::temp_directory_path() / "fl-t5-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    const fs::path dir = tmpl;
    ASSERT_TRUE(write_safetensors(dir / "t5.safetensors", module_blobs(*model), {{"config", "{\"max_dist\": 20}"}}).ok());
    auto f = SafeTensorsFile::open(dir / "t5.safetensors");
    ASSERT_TRUE(f.ok());
    auto c = T5Config::from_weights(*f);
    ASSERT_TRUE(c.ok()) << c.message();
    EXPECT_TRUE(c->shared_pos);
    EXPECT_EQ(c->num_heads, 2);
    EXPECT_EQ(c->num_buckets, 8);
    EXPECT_EQ(c->max_dist, 20);
    T5Encoder loaded(*c);
    ASSERT_TRUE(load_module(*loaded, *f).ok());
    fs::remove_all(dir);

    torch::NoGradGuard no_grad;
    const torch::Tensor ids = torch::tensor({{5, 9, 3, 1, 0, 0, 0}}, torch::kInt64);
    const torch::Tensor mask = torch::tensor({{1, 1, 1, 1, 0, 0, 0}}, torch::kInt64);
    const torch::Tensor padded = loaded(ids, mask);
    const torch::Tensor alone = loaded(ids.slice(1, 0, 4), mask.slice(1, 0, 4));
    EXPECT_LE((padded.slice(1, 0, 4) - alone).abs().max().item<double>(), 1e-5);
    EXPECT_TRUE(torch::equal(loaded(ids, mask), model(ids, mask)));
}

}  // namespace
}  // namespace fl::inference::wan
