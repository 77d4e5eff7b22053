// The umT5 encoder and the Wan VAE saved in every layout users have (the release's .pth, Hugging Face /
// ComfyUI safetensors in fp32, fp16 and fp8-scaled, under a prefix) load to the same modules.
#include "inference/arch/wan/component_keys.h"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "inference/arch/wan/config_util.h"
#include "inference/arch/wan/t5.h"
#include "inference/arch/wan/vae.h"
#include "inference/tensor_io.h"
#include "support/fp8.h"
#include "support/pth_writer.h"
#include "support/temp_dir.h"

namespace fl::inference::wan {
namespace {
namespace fs = std::filesystem;
using Named = std::vector<std::pair<std::string, torch::Tensor>>;

/// An original umT5 key → its Hugging Face `UMT5EncoderModel` name.
std::string hf_name(const std::string& key) {
    if (key == "token_embedding.weight") return "shared.weight";
    if (key == "norm.weight") return "encoder.final_layer_norm.weight";
    static const KeyRenames to_hf = {
        {"blocks.", "encoder.block."},
        {".pos_embedding.embedding.", ".layer.0.SelfAttention.relative_attention_bias."},
        {".attn.", ".layer.0.SelfAttention."},
        {".norm1.", ".layer.0.layer_norm."},
        {".norm2.", ".layer.1.layer_norm."},
        {".ffn.gate.0.", ".layer.1.DenseReluDense.wi_0."},
        {".ffn.fc1.", ".layer.1.DenseReluDense.wi_1."},
        {".ffn.fc2.", ".layer.1.DenseReluDense.wo."},
    };
    return apply_renames(key, to_hf);
}

std::vector<TensorBlob> blobs_of(const Named& named, const std::string& prefix = "",
                                 torch::ScalarType dtype = torch::kFloat32) {
    std::vector<TensorBlob> out;
    for (const auto& [k, v] : named) out.push_back(to_blob(prefix + k, v.to(dtype)));
    return out;
}

class T5Layouts : public ::testing::Test {
protected:
    void SetUp() override {
        torch::manual_seed(3);
        config_.vocab = 64;
        config_.dim = 16;
        config_.dim_attn = 16;
        config_.dim_ffn = 24;
        config_.num_heads = 2;
        config_.num_layers = 2;
        config_.num_buckets = 8;
        T5Encoder t5(config_);
        torch::NoGradGuard no_grad;
        for (auto& p : t5->named_parameters()) {
            p.value().normal_(0.0, 0.5);
            original_.emplace_back(p.key(), p.value().detach().clone());
            hf_.emplace_back(hf_name(p.key()), p.value().detach().clone());
        }
        ids_ = torch::randint(1, config_.vocab, {2, 7}, torch::kInt64);
        mask_ = torch::ones({2, 7}, torch::kInt64);
        mask_[1].narrow(0, 5, 2).zero_();
        expected_ = t5->forward(ids_, mask_);
    }

    /// Opens `path` as a T5 checkpoint, checks the config read from it and returns its encoder's output.
    torch::Tensor run(const fs::path& path) {
        auto source = open_t5_weights(path);
        EXPECT_TRUE(source.ok()) << source.message();
        if (!source) return {};
        auto config = config_from_source<T5Config>(*source, "");
        EXPECT_TRUE(config.ok()) << config.message();
        if (!config) return {};
        EXPECT_EQ(config->num_layers, config_.num_layers) << path;
        EXPECT_EQ(config->num_heads, config_.num_heads) << path;
        EXPECT_EQ(config->num_buckets, config_.num_buckets) << path;
        EXPECT_EQ(config->dim_ffn, config_.dim_ffn) << path;
        EXPECT_FALSE(config->shared_pos) << path;
        T5Encoder t5(*config);
        const auto loaded = load_module(*t5, *source);
        EXPECT_TRUE(loaded.ok()) << loaded.message();
        torch::NoGradGuard no_grad;
        return t5->forward(ids_, mask_);
    }
    double rel_error(const torch::Tensor& out) const {
        if (!out.defined()) return 1e9;
        return (out - expected_).abs().max().item<double>() / expected_.abs().max().item<double>();
    }

    test::TempDir dir_{"fl-t5-layouts"};
    T5Config config_;
    Named original_, hf_;
    torch::Tensor ids_, mask_, expected_;
};

TEST_F(T5Layouts, ReleasePthInFp32AndBf16) {
    test::write_pth(dir_ / "enc-f32.pth", original_);
    EXPECT_EQ(rel_error(run(dir_ / "enc-f32.pth")), 0.0);
    Named bf16;
    for (const auto& [k, v] : original_) bf16.emplace_back(k, v.to(torch::kBFloat16));
    test::write_pth(dir_ / "models_t5_umt5-xxl-enc-bf16.pth", bf16);
    EXPECT_LT(rel_error(run(dir_ / "models_t5_umt5-xxl-enc-bf16.pth")), 5e-2);
    // Loaded for use, the release's bf16 encoder stays bf16 (as the reference runs it); fp32 stays fp32.
    for (const char* name : {"enc-f32.pth", "models_t5_umt5-xxl-enc-bf16.pth"}) {
        auto t5 = load_t5_encoder(dir_ / name);
        ASSERT_TRUE(t5.ok()) << t5.message();
        const bool half = std::string(name).find("bf16") != std::string::npos;
        for (const auto& p : (*t5)->parameters())
            EXPECT_EQ(p.scalar_type(), half ? torch::kBFloat16 : torch::kFloat32) << name;
        torch::NoGradGuard no_grad;
        const torch::Tensor out = (*t5)->forward(ids_, mask_).to(torch::kFloat32);
        EXPECT_LT(rel_error(out), half ? 5e-2 : 1e-7) << name;
    }
    // A folder holding just the archive works too.
    fs::create_directories(dir_ / "folder");
    fs::copy_file(dir_ / "enc-f32.pth", dir_ / "folder" / "t5.pth");
    EXPECT_EQ(rel_error(run(dir_ / "folder")), 0.0);
}

TEST_F(T5Layouts, HuggingFaceNamesWithTiedCopyAndEmbeddedTokenizer) {
    auto blobs = blobs_of(hf_);
    // The tied copy of the embedding and ComfyUI's embedded tokenizer bytes are not weights of the encoder.
    for (const auto& [k, v] : hf_)
        if (k == "shared.weight") blobs.push_back(to_blob("encoder.embed_tokens.weight", v));
    blobs.push_back({"spiece_model", DType::U8, {4}, {1, 2, 3, 4}});
    const fs::path path = dir_ / "umt5_xxl_fp32.safetensors";
    ASSERT_TRUE(write_safetensors(path, blobs).ok());
    EXPECT_EQ(rel_error(run(path)), 0.0);

    // Only the tied copy stored, in fp16, under a prefix.
    std::vector<TensorBlob> copy_only;
    for (const auto& [k, v] : hf_)
        copy_only.push_back(
            to_blob("text_model." + (k == "shared.weight" ? std::string("encoder.embed_tokens.weight") : k),
                    v.to(torch::kFloat16)));
    const fs::path half = dir_ / "umt5_xxl_fp16.safetensors";
    ASSERT_TRUE(write_safetensors(half, copy_only).ok());
    EXPECT_LT(rel_error(run(half)), 5e-3);
}

TEST_F(T5Layouts, ComfyUIFp8Scaled) {
    const test::ScaledFp8 fp8 = test::quantise_scaled_fp8(hf_, "");
    ASSERT_GT(fp8.quantised, 5u);
    const fs::path path = dir_ / "umt5_xxl_fp8_e4m3fn_scaled.safetensors";
    ASSERT_TRUE(write_safetensors(path, fp8.blobs).ok());
    T5Encoder want(config_);
    {
        torch::NoGradGuard no_grad;
        for (auto& p : want->named_parameters()) p.value().copy_(fp8.dequantised.at(hf_name(p.key())));
    }
    const torch::Tensor out = run(path);
    ASSERT_TRUE(out.defined());
    torch::NoGradGuard no_grad;
    const torch::Tensor expect = want->forward(ids_, mask_);
    EXPECT_LT((out - expect).abs().max().item<double>(),
              1e-5 * std::max(1.0, expect.abs().max().item<double>()));
    EXPECT_LT(rel_error(out), 0.3);  // fp8 is coarse, but still the same encoder
}

TEST_F(T5Layouts, OtherCheckpointsAreRefusedOnOneLine) {
    const fs::path path = dir_ / "not_t5.safetensors";
    ASSERT_TRUE(write_safetensors(path, {to_blob("patch_embedding.weight", torch::zeros({4, 4}))}).ok());
    auto source = open_t5_weights(path);
    ASSERT_FALSE(source.ok());
    EXPECT_NE(source.message().find("not a T5 encoder checkpoint"), std::string::npos) << source.message();
    EXPECT_NE(source.message().find(path.string()), std::string::npos) << source.message();
    EXPECT_EQ(source.message().find('\n'), std::string::npos);
}

TEST(VAELayouts, ReleasePthLoadsLikeSafetensors) {
    WanVAEConfig c;  // a small Wan2.1 VAE with the released latent width, so the released statistics apply
    c.dim = 8;
    c.dec_dim = 8;
    c.dim_mult = {1, 2};
    c.num_res_blocks = 1;
    c.temperal_downsample = {true};
    ASSERT_TRUE(c.resolve_latent_stats({}).ok());
    torch::manual_seed(5);
    WanVAE vae(c);
    Named named;
    {
        torch::NoGradGuard no_grad;
        for (auto& p : vae->named_parameters()) {
            p.value().normal_(0.0, 0.2);
            named.emplace_back(p.key(), p.value().detach().clone());
        }
    }
    test::TempDir dir("fl-vae-layouts");
    test::write_pth(dir / "Wan2.1_VAE.pth", named);
    ASSERT_TRUE(write_safetensors(dir / "vae.safetensors", blobs_of(named, "first_stage_model.")).ok());
    for (const fs::path& path : {dir / "Wan2.1_VAE.pth", dir / "vae.safetensors"}) {
        auto source = open_vae_weights(path);
        ASSERT_TRUE(source.ok()) << source.message();
        auto config = WanVAEConfig::from_shapes(source->shapes(), source->metadata());
        ASSERT_TRUE(config.ok()) << config.message();
        EXPECT_EQ(config->dim_mult, c.dim_mult) << path;
        EXPECT_EQ(config->temperal_downsample, c.temperal_downsample) << path;
        EXPECT_EQ(config->z_dim, 16) << path;
        source->strip_prefix(config->prefix);
        WanVAE loaded(*config);
        ASSERT_TRUE(load_module(*loaded, *source).ok()) << path;
        const auto want = vae->named_parameters();
        for (const auto& p : loaded->named_parameters())
            EXPECT_TRUE(torch::equal(p.value(), want[p.key()])) << path << " " << p.key();
    }
    // The diffusers layout is named, with the files that work.
    ASSERT_TRUE(write_safetensors(dir / "diffusers.safetensors",
                                  {to_blob("encoder.conv_in.weight", torch::zeros({8, 3, 3, 3, 3}))})
                    .ok());
    auto refused = open_vae_weights(dir / "diffusers.safetensors");
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.message().find("diffusers layout"), std::string::npos) << refused.message();
    EXPECT_NE(refused.message().find("Wan2.1_VAE.pth"), std::string::npos) << refused.message();
}

}  // namespace
}  // namespace fl::inference::wan
