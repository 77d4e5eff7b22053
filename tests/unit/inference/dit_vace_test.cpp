// WanDiT with VACE blocks (Wan2.1 VACE-1.3B/14B layout: vace_patch_embedding, vace_blocks.{n} with
// before_proj on block 0 and after_proj on every one): keys, placement from the weights, and invariants that
// hold without a reference golden (zero hints change nothing; the hints reach the output only through their
// layers).
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "frameloom/inference/parity.h"
#include "inference/arch/wan/dit.h"
#include "inference/tensor_io.h"
#include "support/temp_dir.h"
#include "support/tiny_wan.h"

namespace fl::inference::wan {
namespace {

WanDiTConfig tiny_vace(std::vector<int64_t> layers = {0, 2}) {
    WanDiTConfig c = test::tiny_wan_config(4);
    c.model_type = "vace";
    c.vace_in_dim = 6;
    c.vace_layers = std::move(layers);
    return c;
}

std::map<std::string, std::vector<int64_t>> shapes_of(torch::nn::Module& m) {
    std::map<std::string, std::vector<int64_t>> out;
    for (const auto& p : m.named_parameters()) out[p.key()] = p.value().sizes().vec();
    return out;
}

struct Inputs {
    torch::Tensor x = torch::randn({2, 4, 2, 4, 6});
    torch::Tensor t = torch::tensor({700.0f, 300.0f});
    torch::Tensor ctx = torch::randn({2, 5, 24});
    torch::Tensor vace = torch::randn({1, 6, 2, 4, 6});
};

TEST(WanDiTVace, KeysAndPlacementFromTheWeights) {
    WanDiT dit(tiny_vace());
    const auto shapes = shapes_of(*dit);
    EXPECT_EQ(shapes.at("vace_patch_embedding.weight"), (std::vector<int64_t>{32, 6, 1, 2, 2}));
    EXPECT_EQ(shapes.at("vace_blocks.0.before_proj.weight"), (std::vector<int64_t>{32, 32}));
    EXPECT_EQ(shapes.count("vace_blocks.1.before_proj.weight"), 0u);  // only block 0 has one
    EXPECT_EQ(shapes.at("vace_blocks.1.after_proj.bias"), (std::vector<int64_t>{32}));
    EXPECT_EQ(shapes.count("vace_blocks.1.self_attn.q.weight"), 1u);

    auto found = WanDiTConfig::from_shapes(shapes, {{"num_heads", "2"}, {"text_len", "8"}});
    ASSERT_TRUE(found.ok()) << found.message();
    EXPECT_EQ(found->model_type, "vace");
    EXPECT_EQ(found->vace_in_dim, 6);
    EXPECT_EQ(found->vace_layers, (std::vector<int64_t>{0, 2}));  // 2 vace blocks over 4 layers: every 2nd
    auto given =
        WanDiTConfig::from_shapes(shapes, {{"num_heads", "2"}, {"text_len", "8"}, {"vace_layers", "[1, 3]"}});
    ASSERT_TRUE(given.ok()) << given.message();
    EXPECT_EQ(given->vace_layers, (std::vector<int64_t>{1, 3}));
    auto bad = WanDiTConfig::from_shapes(shapes, {{"num_heads", "2"}, {"vace_layers", "[1]"}});
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.message().find("vace"), std::string::npos) << bad.message();
    EXPECT_EQ(bad.message().find('\n'), std::string::npos);
    // The released layouts: 6 blocks over 30 layers (1.3B) and 8 over 40 (14B) sit every 5th block.
    WanDiTConfig released = tiny_vace({0, 5, 10, 15, 20, 25});
    released.num_layers = 30;
    WanDiT big(released, /*initialise=*/false);
    auto placed = WanDiTConfig::from_shapes(shapes_of(*big), {{"num_heads", "2"}, {"text_len", "8"}});
    ASSERT_TRUE(placed.ok()) << placed.message();
    EXPECT_EQ(placed->vace_layers, (std::vector<int64_t>{0, 5, 10, 15, 20, 25}));
}

/// The same weights without the VACE parts, as a plain t2v DiT.
WanDiT base_of(WanDiT& vace) {
    WanDiTConfig c = vace->config();
    c.model_type = "t2v";
    c.vace_in_dim = 0;
    c.vace_layers.clear();
    WanDiT base(c, /*initialise=*/false);
    torch::NoGradGuard no_grad;
    const auto from = vace->named_parameters();
    for (auto& p : base->named_parameters()) p.value().copy_(from[p.key()]);
    return base;
}

TEST(WanDiTVace, ZeroHintsLeaveTheBaseModel) {
    torch::manual_seed(1);
    WanDiT dit(tiny_vace());  // initialised as the reference: after_proj (and before_proj) zero
    {
        torch::NoGradGuard no_grad;
        dit->named_parameters()["head.head.weight"].normal_(0.0, 0.3);  // a zero head would hide everything
    }
    WanDiT base = base_of(dit);
    Inputs in;
    torch::NoGradGuard no_grad;
    const torch::Tensor want = base->forward(in.x, in.t, in.ctx);
    EXPECT_TRUE(torch::allclose(dit->forward(in.x, in.t, in.ctx, {}, {}, in.vace), want, 1e-6, 1e-6));
}

TEST(WanDiTVace, HintsReachTheOutputScaledAndOnlyWhenGiven) {
    torch::manual_seed(2);
    WanDiT dit(tiny_vace());
    test::randomise(*dit, 0.2);
    WanDiT base = base_of(dit);
    Inputs in;
    torch::NoGradGuard no_grad;
    const torch::Tensor plain = base->forward(in.x, in.t, in.ctx);
    const torch::Tensor hinted = dit->forward(in.x, in.t, in.ctx, {}, {}, in.vace, 1.0);
    EXPECT_GT((hinted - plain).abs().max().item<double>(), 1e-3);
    EXPECT_TRUE(torch::allclose(dit->forward(in.x, in.t, in.ctx, {}, {}, in.vace, 0.0), plain, 1e-6, 1e-6));
    EXPECT_TRUE(
        torch::allclose(dit->forward(in.x, in.t, in.ctx), plain, 1e-6, 1e-6));  // no context: no hints
    // A batch-1 context is shared by the CFG pair: the same as giving it to each sample.
    EXPECT_TRUE(torch::allclose(dit->forward(in.x, in.t, in.ctx, {}, {}, in.vace.expand({2, -1, -1, -1, -1})),
                                hinted, 1e-6, 1e-6));
    // Another context, another video.
    const torch::Tensor other = dit->forward(in.x, in.t, in.ctx, {}, {}, torch::randn({1, 6, 2, 4, 6}));
    EXPECT_GT((other - hinted).abs().max().item<double>(), 1e-3);
    // Wrong context shapes are errors, not broadcasts.
    EXPECT_THROW(dit->forward(in.x, in.t, in.ctx, {}, {}, torch::randn({1, 5, 2, 4, 6})), c10::Error);
    EXPECT_THROW(base->forward(in.x, in.t, in.ctx, {}, {}, in.vace), c10::Error);
}

TEST(WanDiTVace, Bf16PrecisionStaysClose) {
    torch::manual_seed(3);
    WanDiT dit(tiny_vace());
    test::randomise(*dit, 0.2);
    Inputs in;
    torch::NoGradGuard no_grad;
    const torch::Tensor f32 = dit->forward(in.x, in.t, in.ctx, {}, {}, in.vace);
    dit->set_precision(DiTPrecision::BF16);
    const torch::Tensor bf16 = dit->forward(in.x, in.t, in.ctx, {}, {}, in.vace);
    EXPECT_LT((bf16 - f32).abs().max().item<double>(), 0.05 * f32.abs().max().item<double>());
}

TEST(WanDiTVace, OffloadedBlocksGiveTheSameResult) {
    // Offload moves blocks between host and device memory; without a CUDA device there is nothing to
    // move, and the test would pass whatever the code did.
    if (!torch::cuda::is_available()) GTEST_SKIP() << "needs a CUDA device (offload is a host-to-GPU scheme)";
    torch::manual_seed(4);
    WanDiT dit(tiny_vace());
    test::randomise(*dit, 0.2);
    Inputs in;
    torch::NoGradGuard no_grad;
    const torch::Tensor before = dit->forward(in.x, in.t, in.ctx, {}, {}, in.vace);
    const torch::Device device(torch::kCUDA);
    dit->offload_blocks_to(device);
    const torch::Tensor after =
        dit->forward(in.x.to(device), in.t, in.ctx.to(device), {}, {}, in.vace.to(device)).cpu();
    EXPECT_TRUE(torch::allclose(after, before, 1e-4, 1e-4));
    for (const auto& p : dit->named_parameters())
        if (p.key().starts_with("blocks.") || p.key().starts_with("vace_blocks."))
            EXPECT_TRUE(p.value().device().is_cpu()) << p.key() << " stays in host memory between uses";
        else
            EXPECT_TRUE(p.value().device().is_cuda()) << p.key() << " lives on the device";
}

TEST(WanDiTVace, ParityOnTheT2VGoldenWithZeroHints) {
    // The reference's t2v golden, with VACE blocks added whose hint projections are zero (as the reference
    // initialises them): `frameloom parity` on a "vace" golden must give the reference's own t2v outputs.
    const std::filesystem::path goldens = std::filesystem::path(FL_TEST_DATA_DIR) / "goldens";
    auto weights = SafeTensorsFile::open(goldens / "wan_dit_t2v_tiny.weights.safetensors");
    auto io = SafeTensorsFile::open(goldens / "wan_dit_t2v_tiny.io.safetensors");
    ASSERT_TRUE(weights.ok() && io.ok());
    std::map<std::string, std::vector<int64_t>> shapes;
    for (const auto& info : weights->tensors()) shapes[info.name] = info.shape;
    auto base = WanDiTConfig::from_shapes(shapes, weights->metadata());
    ASSERT_TRUE(base.ok()) << base.message();
    WanDiTConfig c = *base;
    c.model_type = "vace";
    c.vace_in_dim = 6;
    c.vace_layers = {0, 1};
    torch::manual_seed(7);
    WanDiT vace(c);  // random VACE blocks, zero after_proj/before_proj
    std::vector<TensorBlob> blobs;
    for (const auto& info : weights->tensors())
        blobs.push_back(to_blob(info.name, *read_tensor(*weights, info)));
    for (const auto& p : vace->named_parameters())
        if (p.key().starts_with("vace_")) blobs.push_back(to_blob(p.key(), p.value().detach()));
    auto meta = weights->metadata();
    meta["vace_layers"] = "[0, 1]";
    test::TempDir dir("fl-vace-parity");
    ASSERT_TRUE(write_safetensors(dir / "vace_tiny.weights.safetensors", blobs, meta).ok());
    std::vector<TensorBlob> io_blobs;
    for (const auto& info : io->tensors()) {
        const torch::Tensor t = *read_tensor(*io, info);
        io_blobs.push_back(to_blob(info.name, t));
        if (info.name.starts_with("x."))
            io_blobs.push_back(to_blob("vace_context." + info.name.substr(2),
                                       torch::randn({6, t.size(1), t.size(2), t.size(3)})));
    }
    auto io_meta = io->metadata();
    io_meta["component"] = "vace";
    ASSERT_TRUE(write_safetensors(dir / "vace_tiny.io.safetensors", io_blobs, io_meta).ok());
    auto report = run_parity(dir / "vace_tiny");
    ASSERT_TRUE(report.ok()) << report.message();
    EXPECT_EQ(report->component, "vace");
    ASSERT_FALSE(report->outputs.empty());
    for (const auto& out : report->outputs) {
        ASSERT_TRUE(out.max_abs_diff.has_value()) << out.name;
        EXPECT_LE(*out.max_abs_diff, 1e-4) << out.name;
    }
}

}  // namespace
}  // namespace fl::inference::wan
