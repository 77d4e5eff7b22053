// Wan2.1 / Wan2.2 VAE: parity with the reference goldens, checkpoint keys, causality, frame arithmetic,
// shape errors, and the VideoCodec seam.
#include "inference/arch/wan/vae.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "frameloom/inference/generator.h"
#include "frameloom/inference/model_builder.h"
#include "frameloom/inference/model_store.h"
#include "inference/arch/wan/dit.h"
#include "inference/arch/wan/vae22.h"
#include "inference/codec.h"
#include "inference/patch_codec.h"
#include "inference/tensor_io.h"

namespace fl::inference::wan {
namespace {

namespace fs = std::filesystem;

std::string golden(const std::string& name) { return std::string(FL_TEST_DATA_DIR) + "/goldens/" + name; }

SafeTensorsFile open_file(const std::string& name) {
    auto f = SafeTensorsFile::open(golden(name));
    EXPECT_TRUE(f.ok()) << (f.ok() ? "" : f.message());
    return std::move(*f);
}

torch::Tensor tensor(const SafeTensorsFile& f, const std::string& key) {
    auto t = read_tensor(f, key);
    EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.message());
    return *t;
}

std::vector<double> to_vector(const torch::Tensor& t) {
    const torch::Tensor d = t.to(torch::kDouble).contiguous();
    return {d.data_ptr<double>(), d.data_ptr<double>() + d.numel()};
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
    EXPECT_EQ(a.sizes(), b.sizes());
    if (a.sizes() != b.sizes()) return 1e9;
    return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

// A golden VAE: its config from the weights' shapes, the io file's latent statistics, every weight loaded.
struct Golden {
    WanVAE vae{nullptr};
    torch::Tensor video, latent, decoded;
};

Golden load_golden(const std::string& stem, bool v22) {
    const SafeTensorsFile weights = open_file(stem + ".weights.safetensors");
    const SafeTensorsFile io = open_file(stem + ".io.safetensors");
    auto config = v22 ? wan22_vae_config(weights) : WanVAEConfig::from_weights(weights);
    EXPECT_TRUE(config.ok()) << (config.ok() ? "" : config.message());
    config->latent_mean = to_vector(tensor(io, "latent_mean"));
    config->latent_std = to_vector(tensor(io, "latent_std"));
    Golden g;
    g.vae = WanVAE(*config);
    const auto loaded = load_module(*g.vae, weights);
    EXPECT_TRUE(loaded.ok()) << (loaded.ok() ? "" : loaded.message());
    g.vae->eval();
    g.video = tensor(io, "video").unsqueeze(0);
    g.latent = tensor(io, "latent").unsqueeze(0);
    g.decoded = tensor(io, "decoded").unsqueeze(0);
    return g;
}

void expect_config_matches_metadata(const std::string& stem, bool v22) {
    const SafeTensorsFile weights = open_file(stem + ".weights.safetensors");
    std::map<std::string, std::vector<int64_t>> shapes;
    for (const auto& info : weights.tensors()) shapes[info.name] = info.shape;
    // Shapes only (no metadata) must give the reference constructor arguments.
    auto c = v22 ? wan22_vae_config(shapes, {}) : WanVAEConfig::from_shapes(shapes, {});
    ASSERT_TRUE(c.ok()) << c.message();
    const auto ref = nlohmann::json::parse(weights.metadata().at("config"));
    EXPECT_EQ(c->dim, ref["dim"].get<int64_t>());
    EXPECT_EQ(c->z_dim, ref["z_dim"].get<int64_t>());
    EXPECT_EQ(c->dim_mult, ref["dim_mult"].get<std::vector<int64_t>>());
    EXPECT_EQ(c->num_res_blocks, ref["num_res_blocks"].get<int64_t>());
    EXPECT_EQ(c->temperal_downsample, ref["temperal_downsample"].get<std::vector<bool>>());
    EXPECT_TRUE(c->attn_scales.empty());
    EXPECT_EQ(c->dec_dim, v22 ? ref["dec_dim"].get<int64_t>() : ref["dim"].get<int64_t>());
    EXPECT_EQ(c->patch, v22 ? 2 : 1);
    EXPECT_EQ(c->stride_t(), 4);
    EXPECT_EQ(c->stride_s(), v22 ? 16 : 8);
    // Identity statistics for a latent width with no released table.
    EXPECT_EQ(c->latent_mean, std::vector<double>(4, 0.0));
    EXPECT_EQ(c->latent_std, std::vector<double>(4, 1.0));

    // The module's parameter names are exactly the checkpoint's keys.
    WanVAE vae(*c);
    std::set<std::string> module_keys, file_keys;
    for (const auto& p : vae->named_parameters(/*recurse=*/true)) module_keys.insert(p.key());
    for (const auto& b : vae->named_buffers(/*recurse=*/true)) module_keys.insert(b.key());
    for (const auto& info : weights.tensors()) file_keys.insert(info.name);
    EXPECT_EQ(module_keys, file_keys);
}

TEST(WanVAE, ConfigFromShapesAndKeysMatchCheckpoint) {
    expect_config_matches_metadata("wan_vae_tiny", false);
}
TEST(Wan22VAE, ConfigFromShapesAndKeysMatchCheckpoint) {
    expect_config_matches_metadata("wan22_vae_tiny", true);
}

TEST(WanVAE, MetadataConfigOverridesShapes) {
    const SafeTensorsFile weights = open_file("wan_vae_tiny.weights.safetensors");
    std::map<std::string, std::vector<int64_t>> shapes;
    for (const auto& info : weights.tensors()) shapes[info.name] = info.shape;
    const std::map<std::string, std::string> meta = {
        {"config", R"({"num_res_blocks": 3, "latent_mean": [1, 2, 3, 4], "latent_std": [2, 2, 2, 2]})"}};
    auto c = WanVAEConfig::from_shapes(shapes, meta);
    ASSERT_TRUE(c.ok()) << c.message();
    EXPECT_EQ(c->num_res_blocks, 3);
    EXPECT_EQ(c->latent_mean, (std::vector<double>{1, 2, 3, 4}));
    EXPECT_EQ(c->latent_std, (std::vector<double>{2, 2, 2, 2}));
    auto bad = WanVAEConfig::from_shapes(shapes, {{"latent_std", "[1, 2]"}});
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.message().find("latent_std"), std::string::npos) << bad.message();
}

// The released configurations build with the parameter and key counts of the checkpoints (wan.md §3).
TEST(WanVAE, ReleasedConfigsHaveTheCheckpointsParameterCounts) {
    auto count = [](const WanVAEConfig& c, size_t* keys) {
        WanVAE vae(c);  // weights stay uninitialised: nothing is touched
        int64_t n = 0;
        const auto params = vae->named_parameters(/*recurse=*/true);
        for (const auto& p : params) n += p.value().numel();
        *keys = params.size();
        return n;
    };
    WanVAEConfig c21;  // dim 96, z 16, [1, 2, 4, 4], 2 blocks, [false, true, true]
    ASSERT_TRUE(c21.resolve_latent_stats({}).ok());
    size_t keys = 0;
    EXPECT_EQ(count(c21, &keys), 126892531);
    EXPECT_EQ(keys, 194u);
    WanVAEConfig c22;
    c22.layout = WanVAEConfig::Layout::Wan22;
    c22.patch = 2;
    c22.dim = 160;
    c22.dec_dim = 256;
    c22.z_dim = 48;
    ASSERT_TRUE(c22.resolve_latent_stats({}).ok());
    EXPECT_EQ(count(c22, &keys), 704688668);
    EXPECT_EQ(keys, 196u);
}

TEST(WanVAE, LayoutsAreToldApart) {
    const SafeTensorsFile w21 = open_file("wan_vae_tiny.weights.safetensors");
    const SafeTensorsFile w22 = open_file("wan22_vae_tiny.weights.safetensors");
    auto a = WanVAEConfig::from_weights(w22);
    ASSERT_FALSE(a.ok());
    EXPECT_NE(a.message().find("wan22-vae"), std::string::npos) << a.message();
    auto b = wan22_vae_config(w21);
    ASSERT_FALSE(b.ok());
    EXPECT_NE(b.message().find("wan-vae"), std::string::npos) << b.message();
}

TEST(WanVAE, ReleasedLatentStatistics) {
    EXPECT_EQ(wan_latent_mean(16).size(), 16u);
    EXPECT_EQ(wan_latent_std(48).size(), 48u);
    EXPECT_DOUBLE_EQ(wan_latent_mean(16)[7], 1.5508);
    EXPECT_DOUBLE_EQ(wan_latent_std(48)[47], 0.7744);
    EXPECT_TRUE(wan_latent_mean(4).empty());
}

void expect_golden(const std::string& stem, bool v22) {
    Golden g = load_golden(stem, v22);
    const torch::Tensor latent = g.vae->encode(g.video);
    const double d_latent = max_abs_diff(latent, g.latent);
    const torch::Tensor decoded = g.vae->decode(g.latent);
    const double d_decoded = max_abs_diff(decoded, g.decoded);
    std::printf("[ %s ] max |Δ| latent %.3g, decoded %.3g\n", stem.c_str(), d_latent, d_decoded);
    EXPECT_LE(d_latent, 1e-4);
    EXPECT_LE(d_decoded, 1e-4);
    // The clamp is separate and only clamps.
    EXPECT_TRUE(torch::equal(clamp_video(decoded), decoded.clamp(-1.0, 1.0)));
}

TEST(WanVAE, GoldenEncodeAndDecode) { expect_golden("wan_vae_tiny", false); }
TEST(Wan22VAE, GoldenEncodeAndDecode) { expect_golden("wan22_vae_tiny", true); }

// 13 frames: the golden's 9 and 4 more (mirrored), so every cache runs full 2-frame steady state.
torch::Tensor thirteen_frames(const torch::Tensor& video9) {
    return torch::cat({video9, video9.narrow(2, 1, 4).flip({2}) * 0.5}, 2);
}

void expect_causal(const std::string& stem, bool v22) {
    Golden g = load_golden(stem, v22);
    const torch::Tensor video = thirteen_frames(g.video);  // [1, 3, 13, H, W]
    const torch::Tensor full = g.vae->encode(video);
    ASSERT_EQ(full.size(2), 4);  // (13 − 1)/4 + 1
    const torch::Tensor first5 = g.vae->encode(video.narrow(2, 0, 5));
    ASSERT_EQ(first5.size(2), 2);
    EXPECT_LE(max_abs_diff(first5, full.narrow(2, 0, 2)), 1e-6);
    const torch::Tensor first9 = g.vae->encode(video.narrow(2, 0, 9));
    EXPECT_LE(max_abs_diff(first9, full.narrow(2, 0, 3)), 1e-6);

    const torch::Tensor decoded = g.vae->decode(full);
    ASSERT_EQ(decoded.size(2), 13);  // 1 + 4·(4 − 1)
    const torch::Tensor two = g.vae->decode(full.narrow(2, 0, 2));
    ASSERT_EQ(two.size(2), 5);
    EXPECT_LE(max_abs_diff(two, decoded.narrow(2, 0, 5)), 1e-6);
    const torch::Tensor one = g.vae->decode(full.narrow(2, 0, 1));
    ASSERT_EQ(one.size(2), 1);
    EXPECT_LE(max_abs_diff(one, decoded.narrow(2, 0, 1)), 1e-6);

    // Streaming decode hands out 1, 4, 4, 4 frames that concatenate to the whole decode.
    std::vector<int64_t> sizes;
    std::vector<torch::Tensor> parts;
    g.vae->decode_chunks(full, [&](const torch::Tensor& chunk) {
        sizes.push_back(chunk.size(2));
        parts.push_back(chunk);
    });
    EXPECT_EQ(sizes, (std::vector<int64_t>{1, 4, 4, 4}));
    EXPECT_TRUE(torch::equal(torch::cat(parts, 2), decoded));
}

TEST(WanVAE, CausalEncodeAndDecode) { expect_causal("wan_vae_tiny", false); }
TEST(Wan22VAE, CausalEncodeAndDecode) { expect_causal("wan22_vae_tiny", true); }

TEST(WanVAE, FrameArithmeticAndShapeErrors) {
    WanVAEConfig c21;
    WanVAEConfig c22;
    c22.layout = WanVAEConfig::Layout::Wan22;
    c22.patch = 2;
    for (int64_t t = 1; t <= 21; ++t) {
        EXPECT_EQ(c21.video_frames(t), 1 + 4 * (t - 1));
        EXPECT_EQ(c21.latent_frames(c21.video_frames(t)), t);
    }
    EXPECT_EQ(c21.latent_frames(81), 21);
    EXPECT_TRUE(c21.check_video(81, 480, 832).ok());
    EXPECT_TRUE(c22.check_video(121, 704, 1280).ok());

    const auto frames = c21.check_video(10, 32, 48);
    ASSERT_FALSE(frames.ok());
    EXPECT_NE(frames.message().find("10 frames"), std::string::npos) << frames.message();
    EXPECT_NE(frames.message().find("4n+1"), std::string::npos) << frames.message();
    EXPECT_EQ(frames.message().find('\n'), std::string::npos);
    const auto size = c21.check_video(9, 36, 48);
    ASSERT_FALSE(size.ok());
    EXPECT_NE(size.message().find("multiples of 8"), std::string::npos) << size.message();
    const auto size22 = c22.check_video(9, 32, 40);
    ASSERT_FALSE(size22.ok());
    EXPECT_NE(size22.message().find("multiples of 16"), std::string::npos) << size22.message();

    // encode refuses the same shapes with the same message.
    Golden g = load_golden("wan_vae_tiny", false);
    try {
        (void)g.vae->encode(g.video.narrow(2, 0, 8));
        ADD_FAILURE() << "8 frames were encoded";
    } catch (const c10::Error& e) {
        EXPECT_NE(std::string(e.what()).find("4n+1"), std::string::npos) << e.what();
    }
}

TEST(Wan22VAE, PatchifyAndShortcutsAreExactRearrangements) {
    const torch::Tensor x = torch::randn({1, 3, 2, 8, 12});
    const torch::Tensor p = patchify(x, 2);
    ASSERT_EQ(p.sizes(), (std::vector<int64_t>{1, 12, 2, 4, 6}));
    // b c f (h q) (w r) → b (c r q) f h w: channel c·4 + r·2 + q holds pixel (h·2 + q, w·2 + r).
    EXPECT_EQ(p[0][1 * 4 + 1 * 2 + 0][1][2][3].item<float>(), x[0][1][1][2 * 2 + 0][3 * 2 + 1].item<float>());
    EXPECT_TRUE(torch::equal(unpatchify(p, 2), x));

    // DupUp3D then AvgDown3D with the same factors is the identity; first_chunk drops ft − 1 frames.
    const torch::Tensor z = torch::randn({1, 8, 3, 4, 4});
    const torch::Tensor up = dup_up_3d(z, 4, 2, 2, false);
    ASSERT_EQ(up.sizes(), (std::vector<int64_t>{1, 4, 6, 8, 8}));
    EXPECT_LE(max_abs_diff(avg_down_3d(up, 8, 2, 2), z), 1e-6);
    EXPECT_EQ(dup_up_3d(z, 4, 2, 2, true).size(2), 5);
    // A single frame is front-padded with a zero frame before the temporal mean.
    const torch::Tensor one = torch::ones({1, 2, 1, 2, 2});
    EXPECT_NEAR(avg_down_3d(one, 2, 2, 1).mean().item<double>(), 0.5, 1e-7);
}

// ---------------------------------------------------------------------------------------------------------
// The codec seam

fs::path write_card(const fs::path& dir, const std::string& codec, const std::string& vae_file) {
    fs::create_directories(dir);
    nlohmann::json card = {{"id", "vae-test"}, {"architecture", "wan-dit"}, {"codec", codec}};
    if (codec == "patch") card["codec_patch"] = {1, 4, 4};
    if (!vae_file.empty()) card["files"] = {{"vae", vae_file}};
    const fs::path path = dir / "card.json";
    std::ofstream(path) << card.dump(2);
    return path;
}

ModelCard card_for(const std::string& codec, const std::string& vae_file) {
    const fs::path dir = fs::temp_directory_path() / ("fl_vae_test_" + codec);
    auto card = load_model_card(write_card(dir, codec, vae_file));
    EXPECT_TRUE(card.ok()) << (card.ok() ? "" : card.message());
    return *card;
}

TEST(VideoCodec, LoadsEachKindFromTheCard) {
    struct Case {
        std::string codec, file;
        int64_t channels;
        std::array<int64_t, 3> stride;
        int64_t h, w;
    };
    const std::vector<Case> cases = {
        {"patch", "", 48, {1, 4, 4}, 32, 48},
        {"wan-vae", golden("wan_vae_tiny.weights.safetensors"), 4, {4, 8, 8}, 32, 48},
        {"wan22-vae", golden("wan22_vae_tiny.weights.safetensors"), 4, {4, 16, 16}, 64, 96},
    };
    for (const auto& c : cases) {
        auto codec = load_codec(card_for(c.codec, c.file), torch::Device(torch::kCPU));
        ASSERT_TRUE(codec.ok()) << c.codec << ": " << codec.message();
        VideoCodec& vc = **codec;
        EXPECT_EQ(vc.name(), c.codec);
        EXPECT_EQ(vc.latent_channels(), c.channels);
        EXPECT_EQ(vc.stride(), c.stride);
        const int64_t frames = 5;
        ASSERT_TRUE(vc.check_video(frames, c.h, c.w).ok());
        const torch::Tensor video = torch::rand({1, 3, frames, c.h, c.w}) * 2 - 1;
        const torch::Tensor latent = vc.encode(video);
        const int64_t lt = vc.latent_frames(frames);
        EXPECT_EQ(latent.sizes(),
                  (std::vector<int64_t>{1, c.channels, lt, c.h / c.stride[1], c.w / c.stride[2]}));
        EXPECT_EQ(vc.video_frames(lt), frames);
        const torch::Tensor decoded = vc.decode(latent);
        EXPECT_EQ(decoded.sizes(), video.sizes());
        std::vector<torch::Tensor> parts;
        vc.decode_chunks(latent, [&](const torch::Tensor& chunk) { parts.push_back(chunk); });
        EXPECT_EQ(static_cast<int64_t>(parts.size()), lt);
        EXPECT_LE(max_abs_diff(torch::cat(parts, 2), decoded), 1e-6);
        if (c.codec == "patch") {
            EXPECT_TRUE(torch::equal(decoded, video));  // lossless, as before
        }
    }
}

TEST(VideoCodec, CardErrorsAreClear) {
    auto no_file = load_codec(card_for("wan-vae", ""), torch::Device(torch::kCPU));
    ASSERT_FALSE(no_file.ok());
    EXPECT_NE(no_file.message().find("files.vae"), std::string::npos) << no_file.message();
    auto unknown = load_codec(card_for("mystery", ""), torch::Device(torch::kCPU));
    ASSERT_FALSE(unknown.ok());
    EXPECT_NE(unknown.message().find("mystery"), std::string::npos) << unknown.message();
    auto wrong = load_codec(card_for("wan22-vae", golden("wan_vae_tiny.weights.safetensors")),
                            torch::Device(torch::kCPU));
    ASSERT_FALSE(wrong.ok());
    EXPECT_NE(wrong.message().find("wan-vae"), std::string::npos) << wrong.message();
}

// The whole pipeline with a Wan VAE: the default model's text encoder, a DiT for the VAE's 4 latent channels,
// and the golden VAE. 5 frames → 2 latent frames → 5 RGB frames; 4 frames is a one-line error.
TEST(VideoCodec, PipelineGeneratesThroughTheWanVAE) {
    const fs::path root = fs::temp_directory_path() / ("fl_vae_pipeline_" + std::to_string(::getpid()));
    DefaultModelSpec spec;
    spec.id = "vae-pipe";
    spec.dit_layers = 1;
    auto base = build_default_model(root, spec);
    ASSERT_TRUE(base.ok()) << base.message();

    auto dit_file = SafeTensorsFile::open(base->file("dit"));
    ASSERT_TRUE(dit_file.ok()) << dit_file.message();
    auto dit_config = WanDiTConfig::from_weights(*dit_file);
    ASSERT_TRUE(dit_config.ok()) << dit_config.message();
    dit_config->in_dim = dit_config->out_dim = 4;
    dit_config->patch = {1, 2, 2};  // Wan's patch over the VAE latent (the default model's is 4×1×1)
    torch::manual_seed(0);
    WanDiT dit(*dit_config);
    const fs::path dit_path = root / "diffusion_models" / "vae-pipe-4ch.safetensors";
    auto metadata = dit_file->metadata();
    metadata["model_type"] = "t2v";  // the default model is i2v-type (frame-mask flags); this one is plain t2v
    ASSERT_TRUE(write_safetensors(dit_path, module_blobs(*dit), metadata).ok());

    nlohmann::json card = {{"id", "vae-pipe-4ch"},
                           {"architecture", "wan-dit"},
                           {"codec", "wan-vae"},
                           {"files",
                            {{"dit", dit_path.string()},
                             {"text_encoder", base->file("text_encoder").string()},
                             {"tokenizer", base->file("tokenizer").string()},
                             {"vae", golden("wan_vae_tiny.weights.safetensors")}}},
                           {"tasks", {"t2v"}}};
    std::ofstream(root / "vae-pipe-4ch.json") << card.dump(2);
    auto loaded = load_model_card(root / "vae-pipe-4ch.json");
    ASSERT_TRUE(loaded.ok()) << loaded.message();
    DevicePolicy cpu;
    cpu.device = DeviceKind::CPU;
    auto generator = Generator::load(*loaded, cpu);
    ASSERT_TRUE(generator.ok()) << generator.message();

    GenerateRequest request;
    request.params = default_params(*loaded);
    request.params.prompt = "a red circle";
    request.params.steps = 2;
    request.params.frames = 5;
    request.params.width = 48;
    request.params.height = 32;
    GenerateStats stats;
    auto video = (*generator)->generate(request, &stats);
    ASSERT_TRUE(video.ok()) << video.message();
    EXPECT_EQ(video->frame_count(), 5);
    EXPECT_EQ(video->width(), 48);
    EXPECT_EQ(video->height(), 32);
    EXPECT_EQ(stats.tokens, 2 * 2 * 3);  // 2 latent frames of 4×6, DiT patch 1×2×2

    request.params.frames = 4;
    auto bad = (*generator)->generate(request);
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.message().find("4n+1"), std::string::npos) << bad.message();
    EXPECT_EQ(bad.message().find('\n'), std::string::npos);
    std::error_code ec;
    fs::remove_all(root, ec);
}

}  // namespace
}  // namespace fl::inference::wan

namespace fl::inference::wan {
namespace {

TEST(WanVAE, TiledDecodeIsCloseToWholeFramesAndExactWhenOneTile) {
    for (const bool v22 : {false, true}) {
        Golden g = load_golden(v22 ? "wan22_vae_tiny" : "wan_vae_tiny", v22);
        torch::manual_seed(6);
        const torch::Tensor latent = torch::randn({1, g.vae->config().z_dim, 2, 12, 16});
        const auto collect = [&](int64_t tile) {
            std::vector<torch::Tensor> chunks;
            g.vae->decode_chunks(
                latent, [&](const torch::Tensor& c) { chunks.push_back(c); }, tile);
            return torch::cat(chunks, 2);
        };
        const torch::Tensor whole = collect(0);
        EXPECT_TRUE(torch::equal(collect(16), whole)) << "one tile covering the latent is the plain decode";
        const torch::Tensor tiled = collect(8);  // 2×2 tiles of 8 cells overlapping by 2 (or more)
        ASSERT_EQ(tiled.sizes(), whole.sizes());
        EXPECT_TRUE(torch::isfinite(tiled).all().item<bool>());
        // Each tile sees less context (and its own attention), so not identical; but blended, not doubled or
        // gapped: a fraction of the signal, shrinking as tiles grow (random tiny VAEs have no smoothness to
        // hide seams, so the fractions are larger than a trained VAE's on real frames).
        const double diff = (tiled - whole).abs().mean().item<double>();
        const double signal = whole.abs().mean().item<double>();
        EXPECT_LT(diff, 0.4 * signal)
            << (v22 ? "wan22" : "wan21") << " diff " << diff << " signal " << signal;
        const double small = (collect(4) - whole).abs().mean().item<double>();
        const double large = (collect(12) - whole).abs().mean().item<double>();
        EXPECT_LT(large, diff);
        EXPECT_LT(diff, small);
        EXPECT_GT(diff, 0.0);
    }
}

}  // namespace
}  // namespace fl::inference::wan
