// WeightSource: a tiny Wan DiT saved in every layout users have loads to the same model.
#include "inference/weight_source.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "inference/arch/wan/dit.h"
#include "inference/arch/wan/dit_keys.h"
#include "inference/tensor_io.h"
#include "support/fp8.h"
#include "support/tiny_wan.h"

namespace fl::inference {
namespace {
namespace fs = std::filesystem;
using wan::WanDiT;
using wan::WanDiTConfig;

const std::map<std::string, std::string> kMeta = {{"num_heads", "2"}, {"text_len", "8"}};

WanDiTConfig tiny_config() { return test::tiny_wan_config(2); }

/// original → diffusers, as diffusers' convert_wan_to_diffusers.py renames (successive substrings).
const KeyRenames& original_to_diffusers() {
    static const KeyRenames r = {
        {"time_embedding.0", "condition_embedder.time_embedder.linear_1"},
        {"time_embedding.2", "condition_embedder.time_embedder.linear_2"},
        {"text_embedding.0", "condition_embedder.text_embedder.linear_1"},
        {"text_embedding.2", "condition_embedder.text_embedder.linear_2"},
        {"time_projection.1", "condition_embedder.time_proj"},
        {"head.modulation", "scale_shift_table"},
        {"head.head", "proj_out"},
        {"modulation", "scale_shift_table"},
        {"ffn.0", "ffn.net.0.proj"},
        {"ffn.2", "ffn.net.2"},
        {"norm2", "norm__placeholder"},
        {"norm3", "norm2"},
        {"norm__placeholder", "norm3"},
        {"img_emb.proj.0", "condition_embedder.image_embedder.norm1"},
        {"img_emb.proj.1", "condition_embedder.image_embedder.ff.net.0.proj"},
        {"img_emb.proj.3", "condition_embedder.image_embedder.ff.net.2"},
        {"img_emb.proj.4", "condition_embedder.image_embedder.norm2"},
        {"img_emb.emb_pos", "condition_embedder.image_embedder.pos_embed"},
        {"self_attn.q", "attn1.to_q"},
        {"self_attn.k", "attn1.to_k"},
        {"self_attn.v", "attn1.to_v"},
        {"self_attn.o", "attn1.to_out.0"},
        {"self_attn.norm_q", "attn1.norm_q"},
        {"self_attn.norm_k", "attn1.norm_k"},
        {"cross_attn.q", "attn2.to_q"},
        {"cross_attn.k", "attn2.to_k"},
        {"cross_attn.v", "attn2.to_v"},
        {"cross_attn.o", "attn2.to_out.0"},
        {"cross_attn.norm_q", "attn2.norm_q"},
        {"cross_attn.norm_k", "attn2.norm_k"},
        {"attn2.to_k_img", "attn2.add_k_proj"},
        {"attn2.to_v_img", "attn2.add_v_proj"},
        {"attn2.norm_k_img", "attn2.norm_added_k"},
    };
    return r;
}

double max_abs(const torch::Tensor& t) { return t.abs().max().item<double>(); }

class WeightSourceTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string tmpl = (fs::temp_directory_path() / "fl-weight-source-XXXXXX").string();
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        dir_ = tmpl;
        torch::manual_seed(0);
        dit_ = WanDiT(tiny_config());
        test::randomise(*dit_, 0.3);
        torch::NoGradGuard no_grad;
        x_ = torch::randn({1, 4, 2, 4, 4});
        t_ = torch::tensor({500.0f});
        ctx_ = torch::randn({1, 5, 24});
        expected_ = dit_->forward(x_, t_, ctx_);
        blobs_ = module_blobs(*dit_);
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    fs::path write(const fs::path& rel, const std::vector<TensorBlob>& blobs,
                   const std::map<std::string, std::string>& meta = kMeta) {
        const fs::path p = dir_ / rel;
        fs::create_directories(p.parent_path());
        const auto r = write_safetensors(p, blobs, meta);
        EXPECT_TRUE(r.ok()) << r.message();
        return p;
    }

    /// Three shards and their index in `sub`; returns the index path.
    fs::path write_sharded(const std::string& sub, bool with_index = true) {
        std::vector<std::vector<TensorBlob>> shards(3);
        nlohmann::json weight_map = nlohmann::json::object();
        for (size_t i = 0; i < blobs_.size(); ++i) {
            const size_t k = i % 3;
            shards[k].push_back(blobs_[i]);
            weight_map[blobs_[i].name] = shard_name(k);
        }
        for (size_t k = 0; k < 3; ++k) write(fs::path(sub) / shard_name(k), shards[k]);
        const fs::path index = dir_ / sub / "diffusion_pytorch_model.safetensors.index.json";
        if (with_index) {
            nlohmann::json j = {{"metadata", {{"total_size", 0}}}, {"weight_map", weight_map}};
            std::ofstream(index) << j.dump(2);
        }
        return index;
    }
    static std::string shard_name(size_t k) {
        return "diffusion_pytorch_model-0000" + std::to_string(k + 1) + "-of-00003.safetensors";
    }

    /// Opens `path` as a DiT checkpoint, detects the config, loads and runs the test batch.
    core::Result<torch::Tensor> run(const fs::path& path) {
        auto source = wan::open_dit_weights(path);
        if (!source) return source.error();
        auto config = WanDiTConfig::from_shapes(source->shapes(), source->metadata());
        if (!config) return config.error();
        EXPECT_EQ(config->dim, 32);
        EXPECT_EQ(config->num_layers, 2);
        EXPECT_EQ(config->num_heads, 2);
        EXPECT_EQ(config->prefix, "");
        WanDiT dit(*config, /*initialise=*/false);
        FL_TRY(load_module(*dit, *source));
        torch::NoGradGuard no_grad;
        return dit->forward(x_, t_, ctx_);
    }

    void expect_exact(const fs::path& path) {
        auto out = run(path);
        ASSERT_TRUE(out.ok()) << out.message();
        EXPECT_TRUE(torch::equal(*out, expected_)) << path << " max diff " << max_abs(*out - expected_);
    }

    fs::path dir_;
    WanDiT dit_{nullptr};
    torch::Tensor x_, t_, ctx_, expected_;
    std::vector<TensorBlob> blobs_;
};

TEST_F(WeightSourceTest, PlainFile) { expect_exact(write("plain.safetensors", blobs_)); }

TEST_F(WeightSourceTest, ShardedByIndexAndByFolder) {
    const fs::path index = write_sharded("sharded");
    expect_exact(index);
    expect_exact(index.parent_path());  // a folder with an index
    write_sharded("noindex", /*with_index=*/false);
    expect_exact(dir_ / "noindex");  // a folder of k-of-N shards
    auto source = WeightSource::open(index);
    ASSERT_TRUE(source.ok()) << source.message();
    EXPECT_EQ(source->files().size(), 3u);
    EXPECT_EQ(source->entries().size(), blobs_.size());
}

TEST_F(WeightSourceTest, ComfyUIPrefix) {
    auto blobs = blobs_;
    for (auto& b : blobs) b.name = "model.diffusion_model." + b.name;
    // A checkpoint that packs other models beside the DiT: only the DiT's keys are presented.
    blobs.push_back(to_blob("first_stage_model.decoder.conv_in.weight", torch::ones({2})));
    expect_exact(write("comfy.safetensors", blobs));
}

TEST_F(WeightSourceTest, DiffusersNames) {
    auto blobs = blobs_;
    for (auto& b : blobs) b.name = apply_renames(b.name, original_to_diffusers());
    EXPECT_TRUE(std::any_of(blobs.begin(), blobs.end(), [](const TensorBlob& b) { return b.name == "proj_out.weight"; }));
    expect_exact(write("diffusers/diffusion_pytorch_model.safetensors", blobs));
    expect_exact(dir_ / "diffusers");
}

TEST_F(WeightSourceTest, DiffusersRenamesInvertTheConversionForEveryKey) {
    // Wan2.1 flf2v has every kind of key (img_emb, k_img/v_img, emb_pos).
    WanDiTConfig c = tiny_config();
    c.model_type = "flf2v";
    c.in_dim = 9;
    c.image_cross_attn = true;
    c.clip_dim = 16;
    c.emb_pos_len = 6;
    WanDiT full(c, /*initialise=*/false);
    std::set<std::string> diffusers_names;
    for (const auto& p : full->named_parameters()) {
        const std::string d = apply_renames(p.key(), original_to_diffusers());
        EXPECT_TRUE(diffusers_names.insert(d).second) << d;
        EXPECT_EQ(apply_renames(d, wan::diffusers_to_original_renames()), p.key()) << d;
    }
    for (const std::string k : {"scale_shift_table", "blocks.1.scale_shift_table", "blocks.0.norm2.weight",
                                "blocks.0.attn2.add_k_proj.weight", "blocks.0.attn2.norm_added_k.weight",
                                "condition_embedder.image_embedder.pos_embed", "blocks.0.ffn.net.0.proj.bias"})
        EXPECT_TRUE(diffusers_names.count(k)) << k;
}

TEST_F(WeightSourceTest, DiffusersFolderTakesItsConfigJson) {
    // A diffusers transformer folder: headers without metadata, the heads in config.json.
    auto blobs = blobs_;
    for (auto& b : blobs) b.name = apply_renames(b.name, original_to_diffusers());
    write("transformer/diffusion_pytorch_model.safetensors", blobs, {});
    const auto config_json = [&](const std::string& text) {
        std::ofstream(dir_ / "transformer" / "config.json") << text;
    };
    // text_len is the test batch's (real models: 512, the default).
    config_json(
        R"({"_class_name": "WanTransformer3DModel", "num_attention_heads": 2, "eps": 1e-06, "text_len": 8})");
    expect_exact(dir_ / "transformer");
    expect_exact(dir_ / "transformer" / "diffusion_pytorch_model.safetensors");
    // Another model's config.json is not read (the heads then default to dim / 128, which this tiny dim
    // cannot use); a broken one is an error that says what to do.
    config_json(R"({"_class_name": "UNet2DConditionModel", "num_attention_heads": 2})");
    auto source = wan::open_dit_weights(dir_ / "transformer");
    ASSERT_TRUE(source.ok()) << source.message();
    EXPECT_EQ(source->metadata().count("config"), 0u);
    config_json("{\"_class_name\": ");
    auto broken = wan::open_dit_weights(dir_ / "transformer");
    ASSERT_FALSE(broken.ok());
    EXPECT_NE(broken.message().find("config.json is not valid JSON"), std::string::npos) << broken.message();
}

TEST_F(WeightSourceTest, DiffusersVaceNamesInvertTheConversion) {
    // diffusers' VACE conversion adds before_proj → proj_in and after_proj → proj_out to the renames above.
    KeyRenames vace = original_to_diffusers();
    vace.push_back({"before_proj", "proj_in"});
    vace.push_back({"after_proj", "proj_out"});
    WanDiTConfig c = tiny_config();
    c.model_type = "vace";
    c.vace_in_dim = 6;
    c.vace_layers = {0, 1};
    WanDiT full(c);
    std::vector<TensorBlob> blobs;
    std::set<std::string> diffusers_names;
    for (const auto& p : full->named_parameters()) {
        const std::string d = apply_renames(p.key(), vace);
        EXPECT_TRUE(diffusers_names.insert(d).second) << d;
        EXPECT_EQ(apply_renames(d, wan::diffusers_to_original_renames()), p.key()) << d;
        blobs.push_back(to_blob(d, p.value()));
    }
    for (const std::string k :
         {"vace_blocks.0.proj_in.weight", "vace_blocks.1.proj_out.bias", "proj_out.weight"})
        EXPECT_TRUE(diffusers_names.count(k)) << k;
    // A diffusers-named VACE file opens with the original names and the VACE config read from its shapes.
    ASSERT_TRUE(write_safetensors(dir_ / "vace.safetensors", blobs, {}).ok());
    auto source = wan::open_dit_weights(dir_ / "vace.safetensors");
    ASSERT_TRUE(source.ok()) << source.message();
    EXPECT_NE(source->find("vace_blocks.0.before_proj.weight"), nullptr);
    EXPECT_NE(source->find("head.head.weight"), nullptr);
}

TEST_F(WeightSourceTest, HalfPrecisionFiles) {
    for (const auto dtype : {torch::kFloat16, torch::kBFloat16}) {
        std::vector<TensorBlob> blobs;
        for (const auto& p : dit_->named_parameters()) blobs.push_back(to_blob(p.key(), p.value().to(dtype)));
        const fs::path path = write(dtype == torch::kFloat16 ? "f16.safetensors" : "bf16.safetensors", blobs);
        auto out = run(path);
        ASSERT_TRUE(out.ok()) << out.message();
        const double rel = max_abs(*out - expected_) / max_abs(expected_);
        EXPECT_LT(rel, dtype == torch::kFloat16 ? 5e-3 : 3e-2) << path;
        EXPECT_GT(max_abs(expected_), 0.1);
    }
}

TEST_F(WeightSourceTest, Fp8ScaledComfyUIFile) {
    // Quantise every matrix to fp8 e4m3 with a per-tensor scale, as ComfyUI's "fp8_scaled" files do; the
    // expected model holds the dequantised weights.
    WanDiT dequantised(tiny_config(), /*initialise=*/false);
    std::vector<std::pair<std::string, torch::Tensor>> named;
    for (const auto& p : dit_->named_parameters()) named.emplace_back(p.key(), p.value());
    const std::string prefix = "model.diffusion_model.";
    const test::ScaledFp8 fp8 = test::quantise_scaled_fp8(named, prefix);
    {
        torch::NoGradGuard no_grad;
        for (auto& p : dequantised->named_parameters()) p.value().copy_(fp8.dequantised.at(p.key()));
    }
    ASSERT_GT(fp8.quantised, 10u);
    const fs::path path = write("fp8_scaled.safetensors", fp8.blobs);

    torch::Tensor want;
    {
        torch::NoGradGuard no_grad;
        want = dequantised->forward(x_, t_, ctx_);
    }
    auto out = run(path);
    ASSERT_TRUE(out.ok()) << out.message();
    EXPECT_LT(max_abs(*out - want), 1e-5 * std::max(1.0, max_abs(want)));
    // fp8 is coarse, but still the same model.
    EXPECT_LT(max_abs(*out - expected_) / max_abs(expected_), 0.3);
    // The scales and the marker are consumed, not presented as weights.
    auto source = wan::open_dit_weights(path);
    ASSERT_TRUE(source.ok()) << source.message();
    for (const auto& [name, entry] : source->entries()) EXPECT_EQ(name.find("scale"), std::string::npos) << name;
}

void expect_one_line(const std::string& message, const std::vector<std::string>& parts) {
    ::testing::Test::RecordProperty("message", message);  // shown in --gtest_output=xml reports
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    for (const auto& part : parts) EXPECT_NE(message.find(part), std::string::npos) << "'" << part << "' not in: " << message;
}

TEST_F(WeightSourceTest, IndexNamingAMissingShard) {
    const fs::path index = write_sharded("s");
    const fs::path gone = index.parent_path() / shard_name(1);
    fs::remove(gone);
    auto source = WeightSource::open(index);
    ASSERT_FALSE(source.ok());
    expect_one_line(source.message(), {gone.string(), "missing", index.string()});
    // Without the index, the gap in 1..N is found from the names.
    fs::remove(index);
    auto folder = WeightSource::open(index.parent_path());
    ASSERT_FALSE(folder.ok());
    expect_one_line(folder.message(), {gone.string(), "missing", "2 of 3"});
}

TEST_F(WeightSourceTest, ShardHoldingAKeyTheIndexDoesNotList) {
    const fs::path index = write_sharded("s");
    std::ifstream in(index);
    nlohmann::json j = nlohmann::json::parse(in);
    in.close();
    const std::string dropped = blobs_[4].name;  // in shard 2 (i % 3 == 1)
    j["weight_map"].erase(dropped);
    std::ofstream(index) << j.dump();
    auto source = WeightSource::open(index);
    ASSERT_FALSE(source.ok());
    expect_one_line(source.message(), {(index.parent_path() / shard_name(1)).string(), dropped, "does not list"});
}

TEST_F(WeightSourceTest, TruncatedShard) {
    const fs::path index = write_sharded("s");
    const fs::path shard = index.parent_path() / shard_name(2);
    fs::resize_file(shard, fs::file_size(shard) / 2);
    auto source = WeightSource::open(index);
    ASSERT_FALSE(source.ok());
    expect_one_line(source.message(), {shard.string(), "truncated"});
}

TEST_F(WeightSourceTest, DiffusersFileMissingAKey) {
    std::vector<TensorBlob> blobs;
    for (const auto& b : blobs_) {
        if (b.name == "blocks.1.cross_attn.k.weight") continue;
        blobs.push_back(b);
        blobs.back().name = apply_renames(b.name, original_to_diffusers());
    }
    const fs::path path = write("diffusers_missing.safetensors", blobs);
    auto out = run(path);
    ASSERT_FALSE(out.ok());
    expect_one_line(out.message(), {path.string(), "blocks.1.cross_attn.k.weight", "missing"});
}

TEST_F(WeightSourceTest, ShapeMismatchNamesTheKeyAndFile) {
    auto blobs = blobs_;
    for (auto& b : blobs)
        if (b.name == "blocks.0.ffn.0.bias") b = to_blob(b.name, torch::zeros({47}));
    const fs::path path = write("bad_shape.safetensors", blobs);
    auto source = wan::open_dit_weights(path);
    ASSERT_TRUE(source.ok()) << source.message();
    WanDiT dit(tiny_config(), /*initialise=*/false);
    auto r = load_module(*dit, *source);
    ASSERT_FALSE(r.ok());
    expect_one_line(r.message(), {"blocks.0.ffn.0.bias", "[47]", path.string()});
}

}  // namespace
}  // namespace fl::inference
