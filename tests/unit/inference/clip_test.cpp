// CLIPVision: parity with the reference golden (preprocessing and penultimate tokens), key names, config.
#include "inference/arch/wan/clip.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>

#include "inference/tensor_io.h"

namespace fl::inference::wan {
namespace {

SafeTensorsFile open_golden(const std::string& name) {
    auto file = SafeTensorsFile::open(std::string(FL_TEST_DATA_DIR) + "/goldens/" + name);
    if (!file.ok()) throw std::runtime_error(file.message());
    return std::move(*file);
}

torch::Tensor golden_tensor(const SafeTensorsFile& file, const std::string& name) {
    auto t = read_tensor(file, name);
    if (!t.ok()) throw std::runtime_error(t.message());
    return *t;
}

std::map<std::string, std::vector<int64_t>> shapes_of(const SafeTensorsFile& file) {
    std::map<std::string, std::vector<int64_t>> shapes;
    for (const auto& info : file.tensors()) shapes[info.name] = info.shape;
    return shapes;
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
    return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

CLIPVision load_tiny() {
    const SafeTensorsFile file = open_golden("clip_vision_tiny.weights.safetensors");
    auto config = CLIPVisionConfig::from_weights(file);
    if (!config.ok()) throw std::runtime_error(config.message());
    CLIPVision clip(*config);
    // The file also holds the last block, post_norm and head, which the tower does not build.
    auto loaded = load_module(*clip, file, config->prefix, /*strict=*/false);
    if (!loaded.ok()) throw std::runtime_error(loaded.message());
    return clip;
}

TEST(CLIPVision, ConfigFromShapesMatchesGoldenConfig) {
    const SafeTensorsFile file = open_golden("clip_vision_tiny.weights.safetensors");
    auto c = CLIPVisionConfig::from_weights(file);
    ASSERT_TRUE(c.ok()) << c.message();
    const auto ref = nlohmann::json::parse(file.metadata().at("config"));
    EXPECT_EQ(c->dim, ref["dim"].get<int64_t>());
    EXPECT_EQ(c->num_heads, ref["num_heads"].get<int64_t>());
    EXPECT_EQ(c->num_layers, ref["num_layers"].get<int64_t>());
    EXPECT_EQ(c->patch_size, ref["patch_size"].get<int64_t>());
    EXPECT_EQ(c->image_size, ref["image_size"].get<int64_t>());
    EXPECT_EQ(c->mlp_dim, ref["dim"].get<int64_t>() * ref["mlp_ratio"].get<int64_t>());
    EXPECT_DOUBLE_EQ(c->eps, ref["norm_eps"].get<double>());
    EXPECT_FALSE(c->quick_gelu);
    EXPECT_TRUE(c->pre_norm);
    EXPECT_FALSE(c->patch_bias);
    EXPECT_EQ(c->tokens(), 5);
    EXPECT_EQ(c->used_layers(), 2);

    // Without metadata: heads from dim (64 → dim/64 = 1), gelu, eps 1e-5; ViT-H's 1280 gives 16 heads.
    auto bare = CLIPVisionConfig::from_shapes(shapes_of(file), {});
    ASSERT_TRUE(bare.ok()) << bare.message();
    EXPECT_EQ(bare->num_heads, 1);
    std::map<std::string, std::vector<int64_t>> vith = {{"visual.patch_embedding.weight", {1280, 3, 14, 14}},
                                                        {"visual.cls_embedding", {1, 1, 1280}},
                                                        {"visual.pos_embedding", {1, 257, 1280}},
                                                        {"visual.pre_norm.weight", {1280}},
                                                        {"visual.transformer.0.mlp.0.weight", {5120, 1280}}};
    for (int i = 0; i < 32; ++i) vith["visual.transformer." + std::to_string(i) + ".norm1.weight"] = {1280};
    auto h = CLIPVisionConfig::from_shapes(vith, {});
    ASSERT_TRUE(h.ok()) << h.message();
    EXPECT_EQ(h->num_heads, 16);
    EXPECT_EQ(h->image_size, 224);
    EXPECT_EQ(h->tokens(), 257);
    EXPECT_EQ(h->used_layers(), 31);

    // Missing tensors and impossible settings name what is wrong.
    auto shapes = shapes_of(file);
    shapes.erase("visual.pos_embedding");
    auto missing = CLIPVisionConfig::from_shapes(shapes, file.metadata());
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.message().find("visual.pos_embedding"), std::string::npos) << missing.message();
    auto heads = CLIPVisionConfig::from_shapes(shapes_of(file), {{"num_heads", "5"}});
    ASSERT_FALSE(heads.ok());
    EXPECT_NE(heads.message().find("num_heads"), std::string::npos) << heads.message();
    auto act = CLIPVisionConfig::from_shapes(shapes_of(file), {{"activation", "swi_glu"}});
    EXPECT_FALSE(act.ok());
}

TEST(CLIPVision, ParameterNamesAreTheCheckpointKeysButTheUnusedOnes) {
    const SafeTensorsFile file = open_golden("clip_vision_tiny.weights.safetensors");
    auto c = CLIPVisionConfig::from_weights(file);
    ASSERT_TRUE(c.ok()) << c.message();
    CLIPVision clip(*c);
    std::set<std::string> ours, theirs;
    for (const auto& p : clip->named_parameters()) {
        ours.insert(c->prefix + p.key());
        const TensorInfo* info = file.find(c->prefix + p.key());
        ASSERT_NE(info, nullptr) << p.key();
        EXPECT_EQ(p.value().sizes().vec(), info->shape) << p.key();
    }
    // Every file key except the last block, post_norm and head (Wan's use_31_block never runs them).
    const std::string last = "visual.transformer." + std::to_string(c->num_layers - 1) + ".";
    for (const auto& info : file.tensors()) {
        if (info.name.starts_with(last) || info.name.starts_with("visual.post_norm.") ||
            info.name == "visual.head")
            continue;
        theirs.insert(info.name);
    }
    EXPECT_EQ(ours, theirs);
    EXPECT_EQ(theirs.size(), file.tensors().size() - 12 - 2 - 1);
    EXPECT_TRUE(clip->named_buffers().is_empty());
}

TEST(CLIPVision, PreprocessingMatchesReferenceGolden) {
    const SafeTensorsFile io = open_golden("clip_vision_tiny.io.safetensors");
    const torch::Tensor image = golden_tensor(io, "image");  // [3, 40, 56] in [−1, 1]
    const torch::Tensor expected = golden_tensor(io, "pixels");
    const torch::Tensor pixels = clip_preprocess(image, 28);
    ASSERT_EQ(pixels.sizes(), expected.sizes());
    const double err = max_abs_diff(pixels, expected);
    std::printf("[ clip pixels golden ] max |delta| = %.3g\n", err);
    EXPECT_LE(err, 1e-4);
    // A batch of one [1, 3, H, W] is the same image.
    EXPECT_TRUE(torch::equal(clip_preprocess(image.unsqueeze(0), 28), pixels));
}

TEST(CLIPVision, PenultimateTokensMatchReferenceGolden) {
    CLIPVision clip = load_tiny();
    const SafeTensorsFile io = open_golden("clip_vision_tiny.io.safetensors");
    const torch::Tensor expected = golden_tensor(io, "out");  // [1, 5, 64]
    const torch::Tensor out = clip->forward(golden_tensor(io, "pixels"));
    ASSERT_EQ(out.sizes(), expected.sizes());
    EXPECT_EQ(out.scalar_type(), torch::kFloat);
    const double err = max_abs_diff(out, expected);
    std::printf("[ clip out golden ] max |delta| = %.3g\n", err);
    EXPECT_LE(err, 1e-4);
    // End to end from the [−1, 1] image.
    EXPECT_LE(max_abs_diff(clip->encode(golden_tensor(io, "image")), expected), 1e-4);
}

TEST(CLIPVision, NoPostNormAndBatchRowsAreIndependent) {
    CLIPVision clip = load_tiny();
    const SafeTensorsFile io = open_golden("clip_vision_tiny.io.safetensors");
    const torch::Tensor pixels = golden_tensor(io, "pixels");
    const torch::Tensor out = clip->forward(pixels);
    // post_norm (learned, non-trivial in the golden) would change the tokens: the golden is not normed.
    const SafeTensorsFile w = open_golden("clip_vision_tiny.weights.safetensors");
    const torch::Tensor normed =
        torch::layer_norm(out, {out.size(-1)}, golden_tensor(w, "visual.post_norm.weight"),
                          golden_tensor(w, "visual.post_norm.bias"), 1e-5);
    EXPECT_GT(max_abs_diff(normed, golden_tensor(io, "out")), 1e-2);
    // Batch of two: the golden image and a flipped copy; row 0 unchanged.
    const torch::Tensor batch = torch::cat({pixels, pixels.flip({3})}, 0);
    const torch::Tensor both = clip->forward(batch);
    ASSERT_EQ(both.sizes(), (torch::IntArrayRef{2, 5, 64}));
    EXPECT_LE(max_abs_diff(both[0], out[0]), 1e-5);
    EXPECT_GT(max_abs_diff(both[1], out[0]), 1e-3);
    EXPECT_THROW(clip->forward(torch::zeros({1, 3, 32, 28})), c10::Error);
}

}  // namespace
}  // namespace fl::inference::wan
