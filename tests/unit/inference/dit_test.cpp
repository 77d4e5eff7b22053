// WanDiT: parity with the reference goldens, checkpoint key names, RoPE, bf16, determinism.
#include "inference/arch/wan/dit.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "inference/blocks/attention.h"
#include "inference/blocks/rope.h"
#include "inference/tensor_io.h"

namespace fl::inference::wan {
namespace {

// A minimal F32 safetensors reader for these tests only (the module's reader lives in safetensors.cpp).
struct TestTensors {
    std::map<std::string, torch::Tensor> tensors;
    std::map<std::string, std::vector<int64_t>> shapes;
    std::map<std::string, std::string> metadata;
};

TestTensors read_f32_safetensors(const std::string& name) {
    const std::string path = std::string(FL_TEST_DATA_DIR) + "/goldens/" + name;
    std::ifstream in(path, std::ios::binary);
    EXPECT_TRUE(in.good()) << "missing test file " << path;
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    TestTensors out;
    if (bytes.size() < 8) return out;
    uint64_t header_len = 0;
    std::memcpy(&header_len, bytes.data(), 8);
    const auto header =
        nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<long>(header_len));
    const char* data = bytes.data() + 8 + header_len;
    for (const auto& [key, entry] : header.items()) {
        if (key == "__metadata__") {
            for (const auto& [mk, mv] : entry.items()) out.metadata[mk] = mv.get<std::string>();
            continue;
        }
        EXPECT_EQ(entry.at("dtype").get<std::string>(), "F32") << key;
        const auto shape = entry.at("shape").get<std::vector<int64_t>>();
        const auto offsets = entry.at("data_offsets").get<std::vector<uint64_t>>();
        torch::Tensor t = torch::empty(shape, torch::kFloat);
        EXPECT_EQ(offsets[1] - offsets[0], static_cast<uint64_t>(t.numel()) * 4) << key;
        std::memcpy(t.data_ptr<float>(), data + offsets[0], offsets[1] - offsets[0]);
        out.tensors[key] = t;
        out.shapes[key] = shape;
    }
    return out;
}

void load_params(torch::nn::Module& module, const TestTensors& file) {
    torch::NoGradGuard guard;
    for (auto& p : module.named_parameters(/*recurse=*/true)) {
        auto it = file.tensors.find(p.key());
        ASSERT_NE(it, file.tensors.end()) << "no weight for " << p.key();
        ASSERT_EQ(p.value().sizes(), it->second.sizes()) << p.key();
        p.value().copy_(it->second);
    }
}

WanDiT load_dit(const std::string& stem, TestTensors* weights_out = nullptr) {
    TestTensors weights = read_f32_safetensors(stem + ".weights.safetensors");
    auto config = WanDiTConfig::from_shapes(weights.shapes, weights.metadata);
    EXPECT_TRUE(config.ok()) << (config.ok() ? "" : config.message());
    WanDiT dit(*config);
    load_params(*dit, weights);
    if (weights_out) *weights_out = std::move(weights);
    return dit;
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
    return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

// The golden's batch: x, t, context zero-padded to the longest prompt, expected out.
struct GoldenIO {
    torch::Tensor x, t, context, out;
};

GoldenIO golden_io(const std::string& stem, int64_t batch) {
    const TestTensors io = read_f32_safetensors(stem + ".io.safetensors");
    std::vector<torch::Tensor> xs, outs, ctxs;
    int64_t lc = 0;
    for (int64_t i = 0; i < batch; ++i)
        lc = std::max(lc, io.tensors.at("context." + std::to_string(i)).size(0));
    for (int64_t i = 0; i < batch; ++i) {
        const std::string s = std::to_string(i);
        xs.push_back(io.tensors.at("x." + s));
        outs.push_back(io.tensors.at("out." + s));
        const torch::Tensor c = io.tensors.at("context." + s);
        torch::Tensor padded = torch::zeros({lc, c.size(1)});
        padded.narrow(0, 0, c.size(0)).copy_(c);
        ctxs.push_back(padded);
    }
    return {torch::stack(xs), io.tensors.at("t"), torch::stack(ctxs), torch::stack(outs)};
}

TEST(WanDiT, ConfigFromShapesMatchesGoldenConfig) {
    const TestTensors w = read_f32_safetensors("wan_dit_t2v_tiny.weights.safetensors");
    auto c = WanDiTConfig::from_shapes(w.shapes, w.metadata);
    ASSERT_TRUE(c.ok()) << c.message();
    const auto ref = nlohmann::json::parse(w.metadata.at("config"));
    EXPECT_EQ(c->model_type, ref["model_type"].get<std::string>());
    EXPECT_EQ(c->dim, ref["dim"].get<int64_t>());
    EXPECT_EQ(c->ffn_dim, ref["ffn_dim"].get<int64_t>());
    EXPECT_EQ(c->freq_dim, ref["freq_dim"].get<int64_t>());
    EXPECT_EQ(c->text_dim, ref["text_dim"].get<int64_t>());
    EXPECT_EQ(c->text_len, ref["text_len"].get<int64_t>());
    EXPECT_EQ(c->num_heads, ref["num_heads"].get<int64_t>());
    EXPECT_EQ(c->num_layers, ref["num_layers"].get<int64_t>());
    EXPECT_EQ(c->in_dim, ref["in_dim"].get<int64_t>());
    EXPECT_EQ(c->out_dim, ref["out_dim"].get<int64_t>());
    EXPECT_EQ(c->patch, (std::array<int64_t, 3>{1, 2, 2}));

    // Without metadata: ti2v from in_dim 48, heads = dim/128 (invalid for dim 64), text_len 512.
    const TestTensors w22 = read_f32_safetensors("wan22_dit_ti2v_tiny.weights.safetensors");
    auto bare = WanDiTConfig::from_shapes(w22.shapes, {{"num_heads", "4"}});
    ASSERT_TRUE(bare.ok()) << bare.message();
    EXPECT_EQ(bare->model_type, "ti2v");
    EXPECT_EQ(bare->text_len, 512);
    EXPECT_EQ(bare->out_dim, 48);
    auto no_heads = WanDiTConfig::from_shapes(w22.shapes, {});
    ASSERT_FALSE(no_heads.ok());
    EXPECT_NE(no_heads.message().find("num_heads"), std::string::npos) << no_heads.message();

    // A prefixed copy is found without being told the prefix.
    std::map<std::string, std::vector<int64_t>> prefixed;
    for (const auto& [k, s] : w.shapes) prefixed["model.diffusion_model." + k] = s;
    auto pc = WanDiTConfig::from_shapes(prefixed, w.metadata);
    ASSERT_TRUE(pc.ok()) << pc.message();
    EXPECT_EQ(pc->prefix, "model.diffusion_model.");
    EXPECT_EQ(pc->num_layers, 2);

    // Missing tensors name the key.
    auto shapes = w.shapes;
    shapes.erase("head.head.weight");
    auto missing = WanDiTConfig::from_shapes(shapes, w.metadata);
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.message().find("head.head.weight"), std::string::npos) << missing.message();
}

TEST(WanDiT, ValidateRejectsImpossibleConfigs) {
    WanDiTConfig c;
    EXPECT_TRUE(c.validate().ok());
    c.num_heads = 7;  // 1536 / 7 is not whole
    EXPECT_FALSE(c.validate().ok());
    c = WanDiTConfig{};
    c.model_type = "i2v";
    EXPECT_FALSE(c.validate().ok());
    c = WanDiTConfig{};
    c.model_type = "s3v";
    EXPECT_FALSE(c.validate().ok());
    c = WanDiTConfig{};
    c.dim = 12;
    c.num_heads = 4;  // head_dim 3 is odd
    EXPECT_FALSE(c.validate().ok());
}

TEST(WanDiT, ParameterNamesAreTheCheckpointKeys) {
    for (const std::string stem : {"wan_dit_t2v_tiny", "wan22_dit_ti2v_tiny"}) {
        const TestTensors w = read_f32_safetensors(stem + ".weights.safetensors");
        auto c = WanDiTConfig::from_shapes(w.shapes, w.metadata);
        ASSERT_TRUE(c.ok()) << c.message();
        WanDiT dit(*c);
        std::set<std::string> ours, theirs;
        for (const auto& p : dit->named_parameters()) {
            ours.insert(p.key());
            EXPECT_EQ(p.value().sizes().vec(), w.shapes.at(p.key())) << p.key();
        }
        for (const auto& [k, s] : w.shapes) theirs.insert(k);
        EXPECT_EQ(ours, theirs) << stem;
        EXPECT_TRUE(dit->named_buffers().is_empty());
    }
}

TEST(WanDiT, T2VMatchesReferenceGolden) {
    WanDiT dit = load_dit("wan_dit_t2v_tiny");
    const GoldenIO io = golden_io("wan_dit_t2v_tiny", 2);
    const torch::Tensor out = dit->forward(io.x, io.t, io.context);
    ASSERT_EQ(out.sizes(), io.out.sizes());
    EXPECT_EQ(out.scalar_type(), torch::kFloat);
    const double err = max_abs_diff(out, io.out);
    std::printf("[ t2v golden ] max |delta| = %.3g\n", err);
    EXPECT_LE(err, 1e-4);
}

TEST(WanDiT, TI2VPerTokenTimestepMatchesReferenceGolden) {
    WanDiT dit = load_dit("wan22_dit_ti2v_tiny");
    const GoldenIO io = golden_io("wan22_dit_ti2v_tiny", 1);
    ASSERT_EQ(io.t.dim(), 2);
    const torch::Tensor out = dit->forward(io.x, io.t, io.context);
    ASSERT_EQ(out.sizes(), io.out.sizes());
    const double err = max_abs_diff(out, io.out);
    std::printf("[ ti2v golden ] max |delta| = %.3g\n", err);
    EXPECT_LE(err, 1e-4);
}

TEST(WanDiT, LoadsThroughTheModuleReaderByName) {
    // The production path: open the file, read the config from it, load by key name (strict), run.
    for (const auto& [stem, batch] :
         {std::pair<std::string, int64_t>{"wan_dit_t2v_tiny", 2}, {"wan22_dit_ti2v_tiny", 1}}) {
        auto file = SafeTensorsFile::open(std::string(FL_TEST_DATA_DIR) + "/goldens/" + stem +
                                          ".weights.safetensors");
        ASSERT_TRUE(file.ok()) << file.message();
        auto config = WanDiTConfig::from_weights(*file);
        ASSERT_TRUE(config.ok()) << config.message();
        WanDiT dit(*config, /*initialise=*/false);
        auto loaded = load_module(*dit, *file, config->prefix, /*strict=*/true);
        ASSERT_TRUE(loaded.ok()) << loaded.message();
        const GoldenIO io = golden_io(stem, batch);
        EXPECT_LE(max_abs_diff(dit->forward(io.x, io.t, io.context), io.out), 1e-4) << stem;
    }
}

TEST(WanDiT, ScalarTimestepEqualsConstantPerTokenTimestep) {
    WanDiT dit = load_dit("wan22_dit_ti2v_tiny");
    const GoldenIO io = golden_io("wan22_dit_ti2v_tiny", 1);
    const int64_t l = io.t.size(1);
    const torch::Tensor a = dit->forward(io.x, torch::full({1}, 731.0f), io.context);
    const torch::Tensor b = dit->forward(io.x, torch::full({1, l}, 731.0f), io.context);
    EXPECT_LE(max_abs_diff(a, b), 1e-6);
}

TEST(WanDiT, TwoForwardsAreBitIdentical) {
    WanDiT dit = load_dit("wan_dit_t2v_tiny");
    const GoldenIO io = golden_io("wan_dit_t2v_tiny", 2);
    const torch::Tensor a = dit->forward(io.x, io.t, io.context);
    const torch::Tensor b = dit->forward(io.x, io.t, io.context);
    EXPECT_TRUE(torch::equal(a, b));
}

TEST(WanDiT, BF16IsCloseToF32) {
    WanDiT dit = load_dit("wan_dit_t2v_tiny");
    const GoldenIO io = golden_io("wan_dit_t2v_tiny", 2);
    const torch::Tensor ref = dit->forward(io.x, io.t, io.context);
    dit->set_precision(DiTPrecision::BF16);
    EXPECT_EQ(dit->precision(), DiTPrecision::BF16);
    for (const auto& p : dit->named_parameters()) {
        const std::string& k = p.key();
        const bool big = k.find("self_attn.q.") != std::string::npos ||
                         k.find("cross_attn.o.") != std::string::npos ||
                         k.find("ffn.") != std::string::npos || k.starts_with("text_embedding.") ||
                         k.starts_with("patch_embedding.");
        const bool small = k.find("modulation") != std::string::npos || k.find("norm") != std::string::npos ||
                           k.starts_with("head.") || k.starts_with("time_");
        if (big) {
            EXPECT_EQ(p.value().scalar_type(), torch::kBFloat16) << k;
        }
        if (small) {
            EXPECT_EQ(p.value().scalar_type(), torch::kFloat) << k;
        }
    }
    const torch::Tensor out = dit->forward(io.x, io.t, io.context);
    EXPECT_EQ(out.scalar_type(), torch::kFloat);
    const double scale = ref.abs().max().item<double>();
    const double err = max_abs_diff(out, ref);
    const double rel = (out - ref).norm().item<double>() / ref.norm().item<double>();
    std::printf("[ bf16 vs f32 ] max |delta| = %.3g (output max %.3g), relative L2 %.3g\n", err, scale, rel);
    EXPECT_LE(rel, 0.03);
    EXPECT_LE(err, 0.1 * scale);
}

TEST(WanDiT, InitialisationIsSeededAndFinite) {
    const TestTensors w = read_f32_safetensors("wan_dit_t2v_tiny.weights.safetensors");
    auto c = WanDiTConfig::from_shapes(w.shapes, w.metadata);
    ASSERT_TRUE(c.ok()) << c.message();
    torch::manual_seed(7);
    WanDiT a(*c);
    torch::manual_seed(7);
    WanDiT b(*c);
    const auto pa = a->named_parameters(), pb = b->named_parameters();
    for (const auto& item : pa) {
        EXPECT_TRUE(torch::equal(item.value(), pb[item.key()])) << item.key();
        EXPECT_TRUE(torch::isfinite(item.value()).all().item<bool>()) << item.key();
    }
    EXPECT_EQ(pa["head.head.weight"].abs().max().item<float>(), 0.0f);  // zero output head, as the reference
    EXPECT_GT(pa["blocks.1.self_attn.q.weight"].abs().max().item<float>(), 0.0f);
    const GoldenIO io = golden_io("wan_dit_t2v_tiny", 2);
    {
        torch::NoGradGuard guard;
        pa["head.head.weight"].normal_(0.0, 0.02);  // make the output non-trivial
    }
    const torch::Tensor out = a->forward(io.x, io.t, io.context);
    EXPECT_TRUE(torch::isfinite(out).all().item<bool>());
    EXPECT_GT(out.abs().max().item<float>(), 0.0f);
    // Built without initialisation, then loaded: the golden still holds.
    WanDiT lazy(*c, /*initialise=*/false);
    load_params(*lazy, w);
    EXPECT_LE(max_abs_diff(lazy->forward(io.x, io.t, io.context), io.out), 1e-4);
}

TEST(WanDiT, PooledTextStartsSilentAndThenConditionsEachSampleOnItsOwnPrompt) {
    TestTensors w = read_f32_safetensors("wan_dit_t2v_tiny.weights.safetensors");
    auto base = WanDiTConfig::from_shapes(w.shapes, w.metadata);
    ASSERT_TRUE(base.ok()) << base.message();
    EXPECT_FALSE(base->pooled_text);
    // The key is what marks the extension; a wrong shape is refused in one line.
    auto shapes = w.shapes;
    shapes["text_pooling.weight"] = {base->dim, base->text_dim + 1};
    shapes["text_pooling.bias"] = {base->dim};
    auto bad = WanDiTConfig::from_shapes(shapes, w.metadata);
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.message().find("text_pooling.weight"), std::string::npos) << bad.message();
    shapes["text_pooling.weight"] = {base->dim, base->text_dim};
    auto c = WanDiTConfig::from_shapes(shapes, w.metadata);
    ASSERT_TRUE(c.ok()) << c.message();
    ASSERT_TRUE(c->pooled_text);

    WanDiT dit(*c);
    {
        torch::NoGradGuard guard;
        for (auto& p : dit->named_parameters())
            if (!p.key().starts_with("text_pooling.")) p.value().copy_(w.tensors.at(p.key()));
    }
    const GoldenIO io = golden_io("wan_dit_t2v_tiny", 2);
    // Zero-initialised: exactly the model without the path (the reference golden holds).
    EXPECT_EQ(dit->named_parameters()["text_pooling.weight"].abs().max().item<float>(), 0.0f);
    EXPECT_LE(max_abs_diff(dit->forward(io.x, io.t, io.context), io.out), 1e-4);

    {
        torch::NoGradGuard guard;
        dit->named_parameters()["text_pooling.weight"].normal_(0.0, 0.5);
    }
    const torch::Tensor both = dit->forward(io.x, io.t, io.context);
    EXPECT_GT(max_abs_diff(both, io.out), 1e-3);  // the prompt now also moves the modulation
    // Each sample hears its own prompt: one at a time gives the same as the batch.
    for (int64_t i = 0; i < 2; ++i) {
        const torch::Tensor one =
            dit->forward(io.x.narrow(0, i, 1), io.t.narrow(0, i, 1), io.context.narrow(0, i, 1));
        EXPECT_LE(max_abs_diff(one, both.narrow(0, i, 1)), 1e-4) << "sample " << i;
    }
    // Padding rows are not part of the mean: the shorter prompt without its zero rows gives the same output.
    const torch::Tensor used = io.context.abs().sum(2).gt(0).sum(1);  // [2] rows of each prompt
    const int64_t s = used[0].item<int64_t>() < used[1].item<int64_t>() ? 0 : 1;
    const int64_t rows = used[s].item<int64_t>();
    ASSERT_LT(rows, io.context.size(1)) << "the golden's two prompts differ in length";
    const torch::Tensor trimmed = dit->forward(io.x.narrow(0, s, 1), io.t.narrow(0, s, 1),
                                               io.context.narrow(0, s, 1).narrow(1, 0, rows));
    EXPECT_LE(max_abs_diff(trimmed, both.narrow(0, s, 1)), 1e-5);
    // The pooled vector is the mean of the rows: scaling one row of a prompt changes its sample only.
    torch::Tensor changed = io.context.clone();
    changed[1][0].mul_(3.0);
    const torch::Tensor out = dit->forward(io.x, io.t, changed);
    EXPECT_LE(max_abs_diff(out.narrow(0, 0, 1), both.narrow(0, 0, 1)), 1e-6);
    EXPECT_GT(max_abs_diff(out.narrow(0, 1, 1), both.narrow(0, 1, 1)), 1e-4);
}

TEST(WanDiT, DetailHeadStartsSilentAndReadsEachTokensPixels) {
    TestTensors w = read_f32_safetensors("wan_dit_t2v_tiny.weights.safetensors");
    auto base = WanDiTConfig::from_shapes(w.shapes, w.metadata);
    ASSERT_TRUE(base.ok()) << base.message();
    EXPECT_EQ(base->detail_hidden, 0);
    const int64_t pixels = base->patch[0] * base->patch[1] * base->patch[2];
    auto shapes = w.shapes;
    shapes["detail_head.0.weight"] = {8, base->dim + base->in_dim * pixels + 1};  // one input too many
    shapes["detail_head.0.bias"] = {8};
    shapes["detail_head.2.weight"] = {base->out_dim * pixels, 8};
    shapes["detail_head.2.bias"] = {base->out_dim * pixels};
    auto bad = WanDiTConfig::from_shapes(shapes, w.metadata);
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.message().find("detail_head"), std::string::npos) << bad.message();
    shapes["detail_head.0.weight"] = {8, base->dim + base->in_dim * pixels};
    auto c = WanDiTConfig::from_shapes(shapes, w.metadata);
    ASSERT_TRUE(c.ok()) << c.message();
    ASSERT_EQ(c->detail_hidden, 8);

    WanDiT dit(*c);
    {
        torch::NoGradGuard guard;
        for (auto& p : dit->named_parameters())
            if (!p.key().starts_with("detail_head.")) p.value().copy_(w.tensors.at(p.key()));
    }
    const GoldenIO io = golden_io("wan_dit_t2v_tiny", 2);
    // Its output layer starts at zero: exactly the model without it (the reference golden holds).
    EXPECT_LE(max_abs_diff(dit->forward(io.x, io.t, io.context), io.out), 1e-4);

    {
        torch::NoGradGuard guard;
        dit->named_parameters()["detail_head.2.weight"].normal_(0.0, 0.5);
    }
    const torch::Tensor both = dit->forward(io.x, io.t, io.context);
    EXPECT_GT(max_abs_diff(both, io.out), 1e-3);
    // The head's features are the same for the input pixels it reads: with the blocks' influence of the
    // pixels removed (patch embedding zeroed), a change to one token's pixels changes only that token's output.
    {
        torch::NoGradGuard guard;
        dit->named_parameters()["patch_embedding.weight"].zero_();
    }
    const torch::Tensor before = dit->forward(io.x, io.t, io.context);
    torch::Tensor x = io.x.clone();
    const int64_t pt = c->patch[0], ph = c->patch[1], pw = c->patch[2];
    x.narrow(2, 0, pt).narrow(3, 0, ph).narrow(4, 0, pw).add_(1.0);  // the first token's pixels
    const torch::Tensor after = dit->forward(x, io.t, io.context);
    const torch::Tensor changed = (after - before).abs().amax(1).gt(1e-6);  // [B, F, H, W]
    EXPECT_TRUE(changed.narrow(1, 0, pt).narrow(2, 0, ph).narrow(3, 0, pw).all().item<bool>());
    EXPECT_EQ(changed.sum().item<int64_t>(), changed.size(0) * pt * ph * pw);
}

TEST(WanDiT, RejectsBadShapes) {
    WanDiT dit = load_dit("wan_dit_t2v_tiny");
    const GoldenIO io = golden_io("wan_dit_t2v_tiny", 2);
    EXPECT_THROW(dit->forward(io.x.narrow(4, 0, 5), io.t, io.context), c10::Error);  // odd W
    EXPECT_THROW(dit->forward(io.x, io.t, torch::zeros({2, 9, 32})), c10::Error);    // > text_len
    EXPECT_THROW(dit->forward(io.x, torch::zeros({2, 5}), io.context), c10::Error);  // t too short
}

TEST(Rope, DotProductDependsOnlyOnPositionDifference) {
    torch::manual_seed(3);
    const int64_t d = 16, n = 2;  // split 4/2/2 pairs, as in the tiny DiT
    const torch::Tensor q = torch::randn({1, 1, n, d}), k = torch::randn({1, 1, n, d});
    auto rotated = [&](const torch::Tensor& x, std::array<int64_t, 3> p) {
        const RopeTable table = rope_table_positions(d, torch::tensor({p[0], p[1], p[2]}).view({1, 3}));
        return rope_apply(x, table);  // [1, 1, n, d]
    };
    auto score = [&](std::array<int64_t, 3> pq, std::array<int64_t, 3> pk) {
        return (rotated(q, pq) * rotated(k, pk)).sum(-1).to(torch::kDouble);  // [1, 1, n]
    };
    const torch::Tensor base = score({1, 2, 3}, {4, 0, 7});
    for (const std::array<int64_t, 3> shift :
         {std::array<int64_t, 3>{5, 0, 0}, {0, 9, 0}, {0, 0, 11}, {20, 30, 40}}) {
        const torch::Tensor shifted =
            score({1 + shift[0], 2 + shift[1], 3 + shift[2]}, {4 + shift[0], 0 + shift[1], 7 + shift[2]});
        EXPECT_LE((shifted - base).abs().max().item<double>(), 1e-5);
    }
    // A different offset changes the score on every axis (the axes are really wired in).
    for (const std::array<int64_t, 3> other : {std::array<int64_t, 3>{5, 0, 7}, {4, 1, 7}, {4, 0, 8}}) {
        EXPECT_GT((score({1, 2, 3}, other) - base).abs().max().item<double>(), 1e-4);
    }
    // Position 0 is the identity, and rotations keep norms.
    EXPECT_TRUE(torch::allclose(rotated(q, {0, 0, 0}), q));
    EXPECT_NEAR(rotated(q, {7, 3, 2}).norm().item<double>(), q.norm().item<double>(), 1e-5);
}

TEST(Rope, GridTableIsRowMajorAndPadsPassThrough) {
    const RopeTable grid = rope_table_3d(16, {2, 3, 4});
    ASSERT_EQ(grid.cos.sizes(), (torch::IntArrayRef{24, 8}));
    // Token (f=1, h=2, w=3) sits at row 1·12 + 2·4 + 3.
    const RopeTable one =
        rope_table_positions(16, torch::tensor({int64_t{1}, int64_t{2}, int64_t{3}}).view({1, 3}));
    EXPECT_TRUE(torch::equal(grid.cos[23], one.cos[0]));
    EXPECT_TRUE(torch::equal(grid.sin[23], one.sin[0]));
    const torch::Tensor x = torch::randn({1, 26, 1, 16});
    const torch::Tensor y = rope_apply(x, grid);
    EXPECT_TRUE(torch::equal(y.narrow(1, 24, 2), x.narrow(1, 24, 2)));
}

TEST(Rope, ChunkedApplyMatchesOneShotFormula) {
    torch::manual_seed(9);
    const int64_t l = 130, n = 4096, d = 16;  // > 8M elements, so rope_apply works in two token chunks
    const RopeTable table = rope_table_3d(d, {2, 5, 13});
    const torch::Tensor x = torch::randn({1, l, n, d});
    const torch::Tensor xr = x.to(torch::kDouble).reshape({1, l, n, d / 2, 2});
    const torch::Tensor re = xr.select(-1, 0), im = xr.select(-1, 1);
    const torch::Tensor c = table.cos.view({1, l, 1, d / 2}), s = table.sin.view({1, l, 1, d / 2});
    const torch::Tensor expected = torch::stack({re * c - im * s, re * s + im * c}, -1).reshape({1, l, n, d});
    EXPECT_TRUE(torch::equal(rope_apply(x, table), expected.to(torch::kFloat)));
}

TEST(Attention, MatchesNaiveSoftmax) {
    torch::manual_seed(5);
    const torch::Tensor q = torch::randn({2, 3, 7, 8}), k = torch::randn({2, 3, 11, 8}),
                        v = torch::randn({2, 3, 11, 8});
    const torch::Tensor naive =
        torch::softmax(torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(8.0), -1).matmul(v);
    EXPECT_LE(max_abs_diff(attention(q, k, v), naive), 1e-5);
    EXPECT_LE(max_abs_diff(attention_reference(q, k, v), naive), 1e-5);
    const torch::Tensor bf =
        attention(q.to(torch::kBFloat16), k.to(torch::kBFloat16), v.to(torch::kBFloat16));
    EXPECT_EQ(bf.scalar_type(), torch::kBFloat16);
    EXPECT_LE(max_abs_diff(bf, naive), 0.05);
}

}  // namespace
}  // namespace fl::inference::wan
