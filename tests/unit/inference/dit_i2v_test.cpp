// WanDiT i2v/flf2v: checkpoint keys (reference/wan.md §1.8), detection from keys, img_emb (MLPProj) by hand,
// and invariants of the image cross-attention that hold without a reference golden.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <set>

#include "inference/arch/wan/dit.h"
#include "inference/tensor_io.h"

namespace fl::inference::wan {
namespace {

using ShapeMap = std::map<std::string, std::vector<int64_t>>;

// The tiny DiT of reference/wan.md §8 with in_dim 36 and text_len 512 (the image/text split is hard-coded).
WanDiTConfig tiny(const std::string& type, int64_t clip_dim = 1280) {
    WanDiTConfig c;
    c.model_type = type;
    c.dim = 64;
    c.ffn_dim = 128;
    c.freq_dim = 32;
    c.text_dim = 48;
    c.text_len = 512;
    c.num_heads = 4;
    c.num_layers = 2;
    c.in_dim = 36;
    c.out_dim = 16;
    c.image_cross_attn = type != "t2v";
    c.clip_dim = clip_dim;
    c.emb_pos_len = type == "flf2v" ? 514 : 0;
    return c;
}

// reference/wan.md §1.8, written out by hand for dim C, ffn Fd, in Ci, out Co, text_dim Ct, freq Cf.
ShapeMap reference_keys(const WanDiTConfig& c) {
    const int64_t C = c.dim, Fd = c.ffn_dim, Ci = c.in_dim, Co = c.out_dim;
    ShapeMap k = {
        {"patch_embedding.weight", {C, Ci, 1, 2, 2}},
        {"patch_embedding.bias", {C}},
        {"text_embedding.0.weight", {C, c.text_dim}},
        {"text_embedding.0.bias", {C}},
        {"text_embedding.2.weight", {C, C}},
        {"text_embedding.2.bias", {C}},
        {"time_embedding.0.weight", {C, c.freq_dim}},
        {"time_embedding.0.bias", {C}},
        {"time_embedding.2.weight", {C, C}},
        {"time_embedding.2.bias", {C}},
        {"time_projection.1.weight", {6 * C, C}},
        {"time_projection.1.bias", {6 * C}},
        {"head.modulation", {1, 2, C}},
        {"head.head.weight", {4 * Co, C}},
        {"head.head.bias", {4 * Co}},
    };
    for (int64_t i = 0; i < c.num_layers; ++i) {
        const std::string b = "blocks." + std::to_string(i) + ".";
        k[b + "modulation"] = {1, 6, C};
        for (const std::string a : {"self_attn.", "cross_attn."}) {
            for (const std::string l : {"q", "k", "v", "o"}) {
                k[b + a + l + ".weight"] = {C, C};
                k[b + a + l + ".bias"] = {C};
            }
            k[b + a + "norm_q.weight"] = {C};
            k[b + a + "norm_k.weight"] = {C};
        }
        k[b + "norm3.weight"] = {C};
        k[b + "norm3.bias"] = {C};
        if (c.model_type == "i2v" || c.model_type == "flf2v") {
            k[b + "cross_attn.k_img.weight"] = {C, C};
            k[b + "cross_attn.k_img.bias"] = {C};
            k[b + "cross_attn.v_img.weight"] = {C, C};
            k[b + "cross_attn.v_img.bias"] = {C};
            k[b + "cross_attn.norm_k_img.weight"] = {C};
        }
        k[b + "ffn.0.weight"] = {Fd, C};
        k[b + "ffn.0.bias"] = {Fd};
        k[b + "ffn.2.weight"] = {C, Fd};
        k[b + "ffn.2.bias"] = {C};
    }
    if (c.model_type == "i2v" || c.model_type == "flf2v") {
        k["img_emb.proj.0.weight"] = {1280};
        k["img_emb.proj.0.bias"] = {1280};
        k["img_emb.proj.1.weight"] = {1280, 1280};
        k["img_emb.proj.1.bias"] = {1280};
        k["img_emb.proj.3.weight"] = {C, 1280};
        k["img_emb.proj.3.bias"] = {C};
        k["img_emb.proj.4.weight"] = {C};
        k["img_emb.proj.4.bias"] = {C};
    }
    if (c.model_type == "flf2v") k["img_emb.emb_pos"] = {1, 514, 1280};
    return k;
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
    return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

// A model with every parameter off its init (biases, norms, emb_pos and the zero head all non-trivial).
WanDiT random_dit(const WanDiTConfig& c, uint64_t seed) {
    torch::manual_seed(seed);
    WanDiT dit(c);
    torch::NoGradGuard guard;
    for (auto& p : dit->named_parameters()) p.value().add_(torch::randn_like(p.value()) * 0.05);
    return dit;
}

void copy_shared(const WanDiT& from, WanDiT& to) {
    torch::NoGradGuard guard;
    const auto src = from->named_parameters();
    for (auto& p : to->named_parameters()) p.value().copy_(src[p.key()]);
}

void zero_param(WanDiT& dit, const std::string& suffix) {
    torch::NoGradGuard guard;
    int n = 0;
    for (auto& p : dit->named_parameters())
        if (p.key().ends_with(suffix)) {
            p.value().zero_();
            ++n;
        }
    ASSERT_GT(n, 0) << suffix;
}

// Inputs for the tiny models: latent 2×4×6 (12 tokens), 5 text rows, CLIP tokens of width clip_dim.
struct Inputs {
    torch::Tensor x, t, context, clip, y;
};

Inputs inputs(int64_t clip_dim, int64_t frames_per_sample = 1, int64_t batch = 1, uint64_t seed = 11) {
    torch::manual_seed(seed);
    return {torch::randn({batch, 16, 2, 4, 6}), torch::full({batch}, 613.0f), torch::randn({batch, 5, 48}),
            torch::randn({batch * frames_per_sample, 257, clip_dim}), torch::randn({batch, 20, 2, 4, 6})};
}

TEST(WanDiTI2V, ParameterNamesAreTheReferenceKeys) {
    for (const std::string type : {"i2v", "flf2v"}) {
        const WanDiTConfig c = tiny(type);
        ASSERT_TRUE(c.validate().ok()) << c.validate().message();
        WanDiT dit(c, /*initialise=*/false);
        ShapeMap ours;
        for (const auto& p : dit->named_parameters()) ours[p.key()] = p.value().sizes().vec();
        EXPECT_EQ(ours, reference_keys(c)) << type;
        EXPECT_TRUE(dit->named_buffers().is_empty());
    }
}

TEST(WanDiTI2V, ConfigIsDetectedFromTheKeys) {
    const std::map<std::string, std::string> heads = {{"num_heads", "4"}};
    for (const std::string type : {"i2v", "flf2v"}) {
        auto c = WanDiTConfig::from_shapes(reference_keys(tiny(type)), heads);
        ASSERT_TRUE(c.ok()) << c.message();
        EXPECT_EQ(c->model_type, type);
        EXPECT_TRUE(c->image_cross_attn);
        EXPECT_EQ(c->clip_dim, 1280);
        EXPECT_EQ(c->emb_pos_len, type == "flf2v" ? 514 : 0);
        EXPECT_EQ(c->in_dim, 36);
        EXPECT_EQ(c->text_len, 512);
    }
    // Wan2.2 i2v: in_dim 36, no img_emb → i2v without image cross-attention (y only).
    auto w22 = WanDiTConfig::from_shapes(reference_keys(tiny("t2v")), heads);
    ASSERT_TRUE(w22.ok()) << w22.message();
    EXPECT_EQ(w22->model_type, "i2v");
    EXPECT_FALSE(w22->image_cross_attn);
    // Inconsistent metadata and mixed checkpoints are refused with a reason.
    auto wrong =
        WanDiTConfig::from_shapes(reference_keys(tiny("i2v")), {{"num_heads", "4"}, {"model_type", "t2v"}});
    ASSERT_FALSE(wrong.ok());
    EXPECT_NE(wrong.message().find("img_emb"), std::string::npos) << wrong.message();
    auto keys = reference_keys(tiny("flf2v"));
    keys.erase("img_emb.proj.0.weight");
    EXPECT_FALSE(WanDiTConfig::from_shapes(keys, heads).ok());
    auto short_text =
        WanDiTConfig::from_shapes(reference_keys(tiny("i2v")), {{"num_heads", "4"}, {"text_len", "16"}});
    ASSERT_FALSE(short_text.ok());
    EXPECT_NE(short_text.message().find("512"), std::string::npos) << short_text.message();
}

TEST(WanDiTI2V, SavedAndReloadedThroughTheFileReader) {
    const WanDiTConfig c = tiny("flf2v", 1280);
    WanDiT dit = random_dit(c, 3);
    const auto path = std::filesystem::temp_directory_path() / "fl_dit_flf2v_tiny_test.safetensors";
    ASSERT_TRUE(write_safetensors(path, module_blobs(*dit), {{"num_heads", "4"}}).ok());
    auto file = SafeTensorsFile::open(path);
    ASSERT_TRUE(file.ok()) << file.message();
    auto loaded_config = WanDiTConfig::from_weights(*file);
    ASSERT_TRUE(loaded_config.ok()) << loaded_config.message();
    EXPECT_EQ(loaded_config->model_type, "flf2v");
    WanDiT loaded(*loaded_config, /*initialise=*/false);
    auto r = load_module(*loaded, *file, loaded_config->prefix, /*strict=*/true);
    ASSERT_TRUE(r.ok()) << r.message();
    const Inputs in = inputs(1280, 2);
    EXPECT_TRUE(torch::equal(loaded->forward(in.x, in.t, in.context, in.clip, in.y),
                             dit->forward(in.x, in.t, in.context, in.clip, in.y)));
    std::filesystem::remove(path);
}

// With v_img zeroed the image branch adds exactly 0, so i2v is t2v (same shared weights) on cat(x, y): this
// pins the noise-then-y channel order, and that text attention sees exactly the text rows.
TEST(WanDiTI2V, SilencedImageBranchEqualsT2VOnConcatenatedInput) {
    WanDiT i2v = random_dit(tiny("i2v", 32), 5);
    WanDiTConfig tc = tiny("t2v", 32);
    tc.image_cross_attn = false;
    WanDiT t2v(tc, /*initialise=*/false);
    copy_shared(i2v, t2v);
    const Inputs in = inputs(32);
    const torch::Tensor plain = t2v->forward(torch::cat({in.x, in.y}, 1), in.t, in.context);
    const torch::Tensor with_image = i2v->forward(in.x, in.t, in.context, in.clip, in.y);
    EXPECT_GT(max_abs_diff(with_image, plain), 1e-3);  // the image branch really contributes
    zero_param(i2v, "cross_attn.v_img.weight");
    zero_param(i2v, "cross_attn.v_img.bias");
    const torch::Tensor silenced = i2v->forward(in.x, in.t, in.context, in.clip, in.y);
    EXPECT_LE(max_abs_diff(silenced, plain), 1e-6);
    // ...and then the CLIP features no longer matter.
    const torch::Tensor other_clip = i2v->forward(in.x, in.t, in.context, in.clip * -2.0 + 1.0, in.y);
    EXPECT_LE(max_abs_diff(other_clip, plain), 1e-6);
    // y may also arrive already concatenated.
    EXPECT_TRUE(
        torch::equal(i2v->forward(torch::cat({in.x, in.y}, 1), in.t, in.context, in.clip, {}), silenced));
}

// With the text values zeroed, the output no longer depends on the prompt, but still on the image: the text
// branch reads only the last 512 context rows (the zero-padded prompt) and the image branch the rows before.
TEST(WanDiTI2V, ImageRowsComeBeforeTheLast512TextRows) {
    WanDiT i2v = random_dit(tiny("i2v", 32), 6);
    const Inputs in = inputs(32);
    const torch::Tensor other_text = torch::randn({1, 7, 48});
    const torch::Tensor a = i2v->forward(in.x, in.t, in.context, in.clip, in.y);
    EXPECT_GT(max_abs_diff(a, i2v->forward(in.x, in.t, other_text, in.clip, in.y)), 1e-3);
    zero_param(i2v, "cross_attn.v.weight");
    zero_param(i2v, "cross_attn.v.bias");
    const torch::Tensor b = i2v->forward(in.x, in.t, in.context, in.clip, in.y);
    EXPECT_LE(max_abs_diff(b, i2v->forward(in.x, in.t, other_text, in.clip, in.y)), 1e-6);
    EXPECT_GT(max_abs_diff(b, i2v->forward(in.x, in.t, in.context, torch::randn_like(in.clip), in.y)), 1e-3);
    // The image rows carry no position: reordering the CLIP tokens changes nothing.
    EXPECT_LE(max_abs_diff(b, i2v->forward(in.x, in.t, in.context, in.clip.flip({1}), in.y)), 1e-5);
}

// flf2v: emb_pos is added to the [B, 514, clip] view of the two frames' tokens before img_emb.
TEST(WanDiTFLF2V, EmbPosIsAddedToTheTwoFrameView) {
    WanDiT flf = random_dit(tiny("flf2v", 32), 7);
    const torch::Tensor pos = flf->named_parameters()["img_emb.emb_pos"].clone();
    ASSERT_EQ(pos.sizes(), (torch::IntArrayRef{1, 514, 32}));
    const Inputs in = inputs(32, 2);  // clip [2, 257, 32]: first and last frame
    const torch::Tensor out = flf->forward(in.x, in.t, in.context, in.clip, in.y);
    ASSERT_EQ(out.sizes(), (torch::IntArrayRef{1, 16, 2, 4, 6}));
    // The same tokens as [1, 514, 32] give the same image rows.
    EXPECT_TRUE(torch::equal(flf->embed_image(in.clip), flf->embed_image(in.clip.reshape({1, 514, 32}))));
    // Moving emb_pos into the input is the same model.
    WanDiT moved = random_dit(tiny("flf2v", 32), 8);
    copy_shared(flf, moved);
    {
        torch::NoGradGuard guard;
        moved->named_parameters()["img_emb.emb_pos"].zero_();
    }
    const torch::Tensor shifted = in.clip + pos.view({2, 257, 32});
    EXPECT_LE(max_abs_diff(moved->forward(in.x, in.t, in.context, shifted, in.y), out), 1e-5);
    EXPECT_GT(max_abs_diff(moved->forward(in.x, in.t, in.context, in.clip, in.y), out), 1e-3);
}

TEST(WanDiTI2V, BatchesAreIndependentAndSharedConditionsBroadcast) {
    for (const std::string type : {"i2v", "flf2v"}) {
        WanDiT dit = random_dit(tiny(type, 32), 9);
        const int64_t frames = type == "flf2v" ? 2 : 1;
        const Inputs in = inputs(32, frames, 2);
        const torch::Tensor both = dit->forward(in.x, in.t, in.context, in.clip, in.y);
        ASSERT_EQ(both.sizes(), (torch::IntArrayRef{2, 16, 2, 4, 6}));
        EXPECT_EQ(both.scalar_type(), torch::kFloat);
        for (int64_t i = 0; i < 2; ++i) {
            const torch::Tensor one =
                dit->forward(in.x.narrow(0, i, 1), in.t.narrow(0, i, 1), in.context.narrow(0, i, 1),
                             in.clip.narrow(0, i * frames, frames), in.y.narrow(0, i, 1));
            EXPECT_LE(max_abs_diff(one, both.narrow(0, i, 1)), 1e-5) << type << " sample " << i;
        }
        // A CFG pair: one image condition for both rows equals repeating it.
        const torch::Tensor clip1 = in.clip.narrow(0, 0, frames), y1 = in.y.narrow(0, 0, 1);
        const torch::Tensor shared = dit->forward(in.x, in.t, in.context, clip1, y1);
        const torch::Tensor repeated =
            dit->forward(in.x, in.t, in.context, clip1.repeat({2, 1, 1}), y1.repeat({2, 1, 1, 1, 1}));
        EXPECT_LE(max_abs_diff(shared, repeated), 1e-6) << type;
        EXPECT_TRUE(torch::equal(shared, dit->forward(in.x, in.t, in.context, clip1, y1)))
            << type;  // determinism
    }
}

TEST(WanDiTI2V, RejectsMissingOrMisplacedConditions) {
    WanDiT i2v = random_dit(tiny("i2v", 32), 10);
    const Inputs in = inputs(32);
    EXPECT_THROW(i2v->forward(in.x, in.t, in.context, {}, in.y), c10::Error);     // no CLIP
    EXPECT_THROW(i2v->forward(in.x, in.t, in.context, in.clip, {}), c10::Error);  // 16 ≠ 36 channels
    EXPECT_THROW(i2v->forward(in.x, in.t, in.context, in.clip, in.y.narrow(4, 0, 4)), c10::Error);  // y size
    EXPECT_THROW(i2v->forward(in.x, in.t, in.context, in.clip.narrow(2, 0, 16), in.y), c10::Error);
    WanDiTConfig tc = tiny("t2v", 32);
    tc.image_cross_attn = false;
    WanDiT t2v = random_dit(tc, 10);
    EXPECT_THROW(t2v->forward(in.x, in.t, in.context, in.clip, in.y), c10::Error);  // no img_emb
    EXPECT_NO_THROW(t2v->forward(in.x, in.t, in.context, {}, in.y));
}

// img_emb by hand: LN(eps 1e-5) → Linear → GELU(erf) → Linear → LN(eps 1e-5), in double, per token; for
// flf2v with emb_pos added to the [B, 2·tokens, clip] view first.
TEST(WanDiTI2V, ImageEmbeddingMatchesHandComputedMLPProj) {
    const int64_t cd = 3, dim = 8;
    auto layer_norm = [](std::vector<double> v, const torch::Tensor& w, const torch::Tensor& b) {
        double mean = 0, var = 0;
        for (double e : v) mean += e;
        mean /= static_cast<double>(v.size());
        for (double e : v) var += (e - mean) * (e - mean);
        var /= static_cast<double>(v.size());
        for (size_t i = 0; i < v.size(); ++i)
            v[i] = (v[i] - mean) / std::sqrt(var + 1e-5) * w[static_cast<int64_t>(i)].item<double>() +
                   b[static_cast<int64_t>(i)].item<double>();
        return v;
    };
    auto linear = [](const std::vector<double>& v, const torch::Tensor& w, const torch::Tensor& b) {
        std::vector<double> out(static_cast<size_t>(w.size(0)));
        for (int64_t o = 0; o < w.size(0); ++o) {
            double s = b[o].item<double>();
            for (int64_t i = 0; i < w.size(1); ++i) s += w[o][i].item<double>() * v[static_cast<size_t>(i)];
            out[static_cast<size_t>(o)] = s;
        }
        return out;
    };
    for (const std::string type : {"i2v", "flf2v"}) {
        WanDiTConfig c = tiny(type, cd);
        c.dim = dim;
        c.num_heads = 1;
        c.emb_pos_len = type == "flf2v" ? 4 : 0;  // two frames of two tokens
        ASSERT_TRUE(c.validate().ok()) << c.validate().message();
        WanDiT dit = random_dit(c, 12);
        auto p = dit->named_parameters();
        // A small input: two tokens per frame (flf2v: two frames of one sample).
        const torch::Tensor fea =
            type == "flf2v"
                ? torch::tensor({0.5, -1.0, 2.0, 0.0, 0.25, -0.75, 1.5, 1.0, -2.0, 3.0, 0.1, 0.2})
                      .view({2, 2, cd})
                      .to(torch::kFloat)
                : torch::tensor({0.5, -1.0, 2.0, 0.0, 0.25, -0.75}).view({1, 2, cd}).to(torch::kFloat);
        const torch::Tensor got = dit->embed_image(fea);  // [1, rows, dim]
        const torch::Tensor flat = fea.reshape({-1, cd}).to(torch::kDouble);
        const int64_t rows = flat.size(0);
        ASSERT_EQ(got.sizes(), (torch::IntArrayRef{1, rows, dim}));
        for (int64_t r = 0; r < rows; ++r) {
            std::vector<double> v(static_cast<size_t>(cd));
            for (int64_t i = 0; i < cd; ++i) {
                v[static_cast<size_t>(i)] = flat[r][i].item<double>();
                if (type == "flf2v")
                    v[static_cast<size_t>(i)] += p["img_emb.emb_pos"][0][r][i].item<double>();
            }
            v = layer_norm(v, p["img_emb.proj.0.weight"], p["img_emb.proj.0.bias"]);
            v = linear(v, p["img_emb.proj.1.weight"], p["img_emb.proj.1.bias"]);
            for (double& e : v) e = 0.5 * e * (1.0 + std::erf(e / std::sqrt(2.0)));
            v = linear(v, p["img_emb.proj.3.weight"], p["img_emb.proj.3.bias"]);
            v = layer_norm(v, p["img_emb.proj.4.weight"], p["img_emb.proj.4.bias"]);
            for (int64_t o = 0; o < dim; ++o)
                EXPECT_NEAR(got[0][r][o].item<double>(), v[static_cast<size_t>(o)], 1e-5)
                    << type << " row " << r << " out " << o;
        }
    }
}

TEST(WanDiTI2V, BF16CastsTheImageLinearsAndStaysClose) {
    WanDiT dit = random_dit(tiny("flf2v", 32), 13);
    const Inputs in = inputs(32, 2);
    const torch::Tensor ref = dit->forward(in.x, in.t, in.context, in.clip, in.y);
    dit->set_precision(DiTPrecision::BF16);
    auto p = dit->named_parameters();
    for (const std::string k : {"blocks.0.cross_attn.k_img.weight", "blocks.1.cross_attn.v_img.bias",
                                "img_emb.proj.1.weight", "img_emb.proj.3.weight"})
        EXPECT_EQ(p[k].scalar_type(), torch::kBFloat16) << k;
    for (const std::string k : {"blocks.0.cross_attn.norm_k_img.weight", "img_emb.proj.0.weight",
                                "img_emb.proj.4.bias", "img_emb.emb_pos"})
        EXPECT_EQ(p[k].scalar_type(), torch::kFloat) << k;
    const torch::Tensor out = dit->forward(in.x, in.t, in.context, in.clip, in.y);
    EXPECT_EQ(out.scalar_type(), torch::kFloat);
    EXPECT_LE((out - ref).norm().item<double>() / ref.norm().item<double>(), 0.03);
}

}  // namespace
}  // namespace fl::inference::wan
