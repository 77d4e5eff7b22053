// Wan's own image conditioning (reference/wan.md §5.6): the mask, CLIP towers in both layouts, and I2V /
// FLF2V generation through a tiny model (random DiT, the golden VAE and CLIP, the default model's text side).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "frameloom/inference/generator.h"
#include "frameloom/inference/model_builder.h"
#include "frameloom/inference/model_store.h"
#include "inference/arch/wan/component_keys.h"
#include "inference/arch/wan/dit.h"
#include "inference/codec.h"
#include "inference/frame_conditioning.h"
#include "inference/tensor_io.h"
#include "inference/vace_conditioning.h"
#include "inference/wan_image_conditioning.h"
#include "support/pth_writer.h"
#include "support/temp_dir.h"

namespace fl::inference {
namespace {
namespace fs = std::filesystem;

fs::path golden(const std::string& name) { return fs::path(FL_TEST_DATA_DIR) / "goldens" / name; }

TEST(WanImageMask, MatchesTheReferenceLayout) {
    const torch::Tensor i2v = wan_image_mask(81, 3, 5, /*last=*/false);
    ASSERT_EQ(i2v.sizes(), (std::vector<int64_t>{4, 21, 3, 5}));
    EXPECT_TRUE(i2v.select(1, 0).eq(1).all().item<bool>());  // latent frame 0: all four pixel flags set
    EXPECT_EQ(i2v.sum().item<double>(), 4 * 15);
    const torch::Tensor flf = wan_image_mask(81, 3, 5, /*last=*/true);
    EXPECT_TRUE(flf.select(1, 0).eq(1).all().item<bool>());
    const torch::Tensor frame20 = flf.select(1, 20).amax({1, 2});  // [4]: [0, 0, 0, 1]
    EXPECT_TRUE(torch::equal(frame20, torch::tensor({0.0f, 0.0f, 0.0f, 1.0f})));
    EXPECT_EQ(flf.narrow(1, 1, 19).sum().item<double>(), 0.0);
    EXPECT_EQ(wan_image_mask(5, 2, 2, false).sizes(), (std::vector<int64_t>{4, 2, 2, 2}));
}

/// The golden open-clip tower renamed as Hugging Face's CLIPVisionModel (q/k/v split, flat embeddings).
std::vector<TensorBlob> hf_clip_blobs(const SafeTensorsFile& file) {
    std::vector<TensorBlob> out;
    for (const auto& info : file.tensors()) {
        torch::Tensor t = *read_tensor(file, info);
        std::string k = info.name.substr(7);  // without "visual."
        const auto put = [&](const std::string& name, const torch::Tensor& v) {
            out.push_back(to_blob("vision_model." + name, v.contiguous()));
        };
        if (k == "cls_embedding")
            put("embeddings.class_embedding", t.reshape({-1}));
        else if (k == "pos_embedding")
            put("embeddings.position_embedding.weight", t[0]);
        else if (k == "patch_embedding.weight")
            put("embeddings.patch_embedding.weight", t);
        else if (k.starts_with("pre_norm."))
            put("pre_layrnorm." + k.substr(9), t);
        else if (k.starts_with("post_norm."))
            put("post_layernorm." + k.substr(10), t);
        else if (k == "head")
            out.push_back(to_blob("visual_projection.weight", t.t().contiguous()));
        else if (k.starts_with("transformer.")) {
            const size_t dot = k.find('.', 12);
            const std::string layer = "encoder.layers." + k.substr(12, dot - 12) + ".",
                              rest = k.substr(dot + 1);
            if (rest.starts_with("attn.to_qkv.")) {
                const auto parts = t.chunk(3, 0);
                const std::string p = rest.substr(12);
                put(layer + "self_attn.q_proj." + p, parts[0]);
                put(layer + "self_attn.k_proj." + p, parts[1]);
                put(layer + "self_attn.v_proj." + p, parts[2]);
            } else {
                static const KeyRenames r = {{"norm1.", "layer_norm1."},
                                             {"norm2.", "layer_norm2."},
                                             {"mlp.0.", "mlp.fc1."},
                                             {"mlp.2.", "mlp.fc2."},
                                             {"attn.proj.", "self_attn.out_proj."}};
                put(layer + apply_renames(rest, r), t);
            }
        }
    }
    return out;
}

TEST(CLIPLayouts, ReleaseArchiveAndHuggingFaceFileGiveTheSameTokens) {
    auto file = SafeTensorsFile::open(golden("clip_vision_tiny.weights.safetensors"));
    ASSERT_TRUE(file.ok()) << file.message();
    test::TempDir dir("fl-clip-layouts");
    std::vector<std::pair<std::string, torch::Tensor>> named;
    for (const auto& info : file->tensors())
        named.emplace_back("model." + info.name, *read_tensor(*file, info));
    named.emplace_back("textual.token_embedding.weight", torch::zeros({4, 2}));  // the text tower, unused
    test::write_pth(dir / "models_clip.pth", named);
    auto meta = file->metadata();
    ASSERT_TRUE(write_safetensors(dir / "clip_vision_h.safetensors", hf_clip_blobs(*file), meta).ok());

    torch::manual_seed(2);
    const torch::Tensor image = torch::rand({3, 40, 56}) * 2 - 1;
    auto reference = wan::load_clip_vision(golden("clip_vision_tiny.weights.safetensors"));
    ASSERT_TRUE(reference.ok()) << reference.message();
    torch::NoGradGuard no_grad;
    const torch::Tensor want = (*reference)->encode(image);
    EXPECT_EQ(want.size(1), 5);  // class token + 2×2 patches
    auto hf = wan::load_clip_vision(dir / "clip_vision_h.safetensors");
    ASSERT_TRUE(hf.ok()) << hf.message();
    EXPECT_EQ((*hf)->config().num_layers, (*reference)->config().num_layers);
    EXPECT_LT((*hf)->encode(image).sub(want).abs().max().item<double>(), 1e-6);
    // The archive carries no metadata, so its head count is ViT-H's rule (dim/80, else dim/64), not the tiny
    // golden's 4: its weights are compared instead.
    auto pth = wan::load_clip_vision(dir / "models_clip.pth");
    ASSERT_TRUE(pth.ok()) << pth.message();
    const auto want_params = (*reference)->named_parameters();
    for (const auto& p : (*pth)->named_parameters())
        EXPECT_TRUE(torch::equal(p.value(), want_params[p.key()])) << p.key();
}

/// Writes a card for a random tiny DiT `c` beside the default model's text side; `vae` and `clip` as given.
ModelCard write_tiny_card(const fs::path& root, const std::string& id, const wan::WanDiTConfig& c,
                          const std::string& codec, const fs::path& vae, const fs::path& clip,
                          const std::vector<std::string>& tasks) {
    DefaultModelSpec spec;
    spec.id = "image-base";
    spec.dit_layers = 1;
    auto base = build_default_model(root, spec);
    EXPECT_TRUE(base.ok()) << base.message();
    EXPECT_TRUE(c.validate().ok()) << c.validate().message();
    torch::manual_seed(4);
    wan::WanDiT dit(c);
    {
        torch::NoGradGuard no_grad;
        for (auto& p : dit->parameters()) p.normal_(0.0, 0.3);  // the zero-initialised head would hide y
    }
    const fs::path dit_path = root / "diffusion_models" / (id + ".safetensors");
    const std::map<std::string, std::string> meta = {{"num_heads", std::to_string(c.num_heads)},
                                                     {"text_len", std::to_string(c.text_len)},
                                                     {"model_type", c.model_type}};
    EXPECT_TRUE(write_safetensors(dit_path, module_blobs(*dit), meta).ok());
    nlohmann::json files = {{"dit", dit_path.string()},
                            {"text_encoder", base->file("text_encoder").string()},
                            {"tokenizer", base->file("tokenizer").string()},
                            {"vae", vae.string()}};
    if (!clip.empty()) files["clip_vision"] = clip.string();
    nlohmann::json card = {
        {"id", id}, {"architecture", "wan-dit"}, {"codec", codec}, {"files", files}, {"tasks", tasks}};
    std::ofstream(root / (id + ".json")) << card.dump(2);
    auto loaded = load_model_card(root / (id + ".json"));
    EXPECT_TRUE(loaded.ok()) << loaded.message();
    return *loaded;
}

wan::WanDiTConfig tiny_dit(const std::string& type, int64_t channels, int64_t in_dim) {
    wan::WanDiTConfig c;
    c.model_type = type;
    c.dim = 32;
    c.ffn_dim = 48;
    c.freq_dim = 16;
    c.num_heads = 2;
    c.num_layers = 1;
    c.text_dim = DefaultModelSpec{}.t5_dim;
    c.text_len = 32;
    c.in_dim = in_dim;
    c.out_dim = channels;
    return c;
}

/// A tiny Wan2.1 i2v or flf2v model: random DiT over the golden VAE's 4 latent channels taking y (4 + 4) and
/// the golden CLIP's 64-wide tokens, the default model's text encoder and tokenizer.
ModelCard tiny_image_model(const fs::path& root, bool flf2v) {
    wan::WanDiTConfig c = tiny_dit(flf2v ? "flf2v" : "i2v", 4, 12);
    c.text_len = 512;  // image cross-attention splits the context at its last 512 rows
    c.image_cross_attn = true;
    c.clip_dim = 64;
    c.emb_pos_len = flf2v ? 10 : 0;
    return write_tiny_card(root, flf2v ? "tiny-flf2v" : "tiny-i2v", c, "wan-vae",
                           golden("wan_vae_tiny.weights.safetensors"),
                           golden("clip_vision_tiny.weights.safetensors"), {flf2v ? "flf2v" : "i2v"});
}

core::Frame solid(int w, int h, uint8_t r, uint8_t g, uint8_t b) {
    core::Frame f(w, h);
    for (size_t i = 0; i < f.rgb.size(); i += 3) {
        f.rgb[i] = r;
        f.rgb[i + 1] = g;
        f.rgb[i + 2] = b;
    }
    return f;
}

GenerateRequest image_request(const ModelCard& card) {
    GenerateRequest request;
    request.params = default_params(card);
    request.params.prompt = "a red circle";
    request.params.steps = 2;
    request.params.frames = 5;
    request.params.width = 32;
    request.params.height = 32;
    request.params.seed = 7;
    return request;
}

/// The model on the CPU (every test here runs there).
core::Result<std::unique_ptr<Generator>> load_on_cpu(const ModelCard& card) {
    DevicePolicy cpu;
    cpu.device = DeviceKind::CPU;
    return Generator::load(card, cpu);
}

/// A tiny VACE model: a random DiT of `layers` blocks with a VACE block after each, the golden Wan VAE.
ModelCard tiny_vace_card(const fs::path& root, int64_t layers, const std::vector<std::string>& tasks) {
    wan::WanDiTConfig c = tiny_dit("vace", 4, 4);
    c.num_layers = layers;
    c.vace_in_dim = 2 * 4 + 64;  // inactive + reactive latents of the 4-channel golden VAE, and the mask
    for (int64_t i = 0; i < layers; ++i) c.vace_layers.push_back(i);
    return write_tiny_card(root, "tiny-vace", c, "wan-vae", golden("wan_vae_tiny.weights.safetensors"), {}, tasks);
}

TEST(WanImagePipeline, I2VTakesTheFirstFrameThroughYAndCLIP) {
    test::TempDir root("fl-wan-i2v");
    const ModelCard card = tiny_image_model(root.path(), /*flf2v=*/false);
    DevicePolicy cpu;
    cpu.device = DeviceKind::CPU;
    auto generator = Generator::load(card, cpu);
    ASSERT_TRUE(generator.ok()) << generator.message();

    GenerateRequest request = image_request(card);
    auto refused = (*generator)->generate(request);  // no image
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.message().find("--first-frame"), std::string::npos) << refused.message();
    EXPECT_EQ(refused.message().find('\n'), std::string::npos);

    request.params.conditioning.first_frame = "red.png";
    request.media.first_frame = solid(40, 30, 220, 40, 40);
    auto red = (*generator)->generate(request);
    ASSERT_TRUE(red.ok()) << red.message();
    EXPECT_EQ(red->frame_count(), 5);
    EXPECT_EQ(red->width(), 32);
    request.media.first_frame = solid(40, 30, 40, 80, 230);
    auto blue = (*generator)->generate(request);
    ASSERT_TRUE(blue.ok()) << blue.message();
    // Same seed and prompt: only the image differs, so it must reach the model.
    EXPECT_NE(red->frames[2].rgb, blue->frames[2].rgb);

    request.params.conditioning.last_frame = "end.png";  // an i2v checkpoint has no last-frame input
    request.media.last_frame = solid(40, 30, 0, 0, 0);
    auto no_last = (*generator)->generate(request);
    ASSERT_FALSE(no_last.ok());
    EXPECT_NE(no_last.message().find("--last-frame"), std::string::npos) << no_last.message();
}

TEST(WanImagePipeline, FLF2VNeedsBothFramesAndUsesTheLast) {
    test::TempDir root("fl-wan-flf2v");
    const ModelCard card = tiny_image_model(root.path(), /*flf2v=*/true);
    DevicePolicy cpu;
    cpu.device = DeviceKind::CPU;
    auto generator = Generator::load(card, cpu);
    ASSERT_TRUE(generator.ok()) << generator.message();
    GenerateRequest request = image_request(card);
    request.params.conditioning.first_frame = "a.png";
    request.media.first_frame = solid(32, 32, 220, 40, 40);
    auto one = (*generator)->generate(request);
    ASSERT_FALSE(one.ok());
    EXPECT_NE(one.message().find("--last-frame"), std::string::npos) << one.message();

    request.params.conditioning.last_frame = "b.png";
    request.media.last_frame = solid(48, 24, 240, 240, 240);  // another size: covered and cropped
    auto white = (*generator)->generate(request);
    ASSERT_TRUE(white.ok()) << white.message();
    request.media.last_frame = solid(48, 24, 15, 15, 15);
    auto black = (*generator)->generate(request);
    ASSERT_TRUE(black.ok()) << black.message();
    EXPECT_NE(white->frames[4].rgb, black->frames[4].rgb);
}

TEST(WanImagePipeline, TI2VHoldsTheFirstLatentFrame) {
    test::TempDir root("fl-wan-ti2v");
    const ModelCard card = write_tiny_card(root.path(), "tiny-ti2v", tiny_dit("ti2v", 4, 4), "wan22-vae",
                                           golden("wan22_vae_tiny.weights.safetensors"), {}, {"t2v", "i2v"});
    DevicePolicy cpu;
    cpu.device = DeviceKind::CPU;
    auto generator = Generator::load(card, cpu);
    ASSERT_TRUE(generator.ok()) << generator.message();
    GenerateRequest request = image_request(card);
    request.params.width = 64;  // the Wan2.2 VAE's stride is 16, the DiT's patch 2
    auto seed7 = (*generator)->generate(request);
    ASSERT_TRUE(seed7.ok()) << seed7.message();
    request.params.seed = 8;
    auto seed8 = (*generator)->generate(request);
    ASSERT_TRUE(seed8.ok()) << seed8.message();
    EXPECT_NE(seed7->frames[0].rgb, seed8->frames[0].rgb);  // text only: frame 0 is sampled

    // With a first frame, latent frame 0 is the image's whatever the noise, and the causal decoder makes
    // pixel frame 0 from latent frame 0 alone: the same for every seed.
    request.params.conditioning.first_frame = "a.png";
    request.media.first_frame = solid(100, 40, 40, 180, 60);  // another aspect: covered and cropped
    auto a = (*generator)->generate(request);
    ASSERT_TRUE(a.ok()) << a.message();
    request.params.seed = 9;
    auto b = (*generator)->generate(request);
    ASSERT_TRUE(b.ok()) << b.message();
    EXPECT_EQ(a->frames[0].rgb, b->frames[0].rgb);
    EXPECT_NE(a->frames[4].rgb, b->frames[4].rgb);
    EXPECT_EQ(a->frame_count(), 5);
}

TEST(VaceConditioning, MaskFoldsEightByEightCellsAndResamplesTimeLikeTheReference) {
    const torch::Tensor mask = torch::arange(5 * 16 * 24, torch::kFloat32).view({5, 16, 24});
    const torch::Tensor m = vace_mask_latent(mask, 2);
    ASSERT_EQ(m.sizes(), (std::vector<int64_t>{64, 2, 2, 3}));
    // nearest-exact over time: latent frame t takes pixel frame floor((t + 0.5)·5/2) = 1, 3
    for (int64_t c : {0, 9, 63})
        for (int64_t t = 0; t < 2; ++t)
            for (int64_t i = 0; i < 2; ++i)
                for (int64_t j = 0; j < 3; ++j)
                    EXPECT_EQ(m[c][t][i][j].item<float>(),
                              mask[1 + 2 * t][i * 8 + c / 8][j * 8 + c % 8].item<float>());
}

TEST(WanImagePipeline, VaceTakesFramesReferencesAndExtensions) {
    test::TempDir root("fl-wan-vace");
    const ModelCard card = tiny_vace_card(root.path(), 2, {"t2v", "i2v", "flf2v", "extend", "reference"});
    auto generator = load_on_cpu(card);
    ASSERT_TRUE(generator.ok()) << generator.message();
    GenerateRequest request = image_request(card);
    auto text = (*generator)->generate(request);
    ASSERT_TRUE(text.ok()) << text.message();
    EXPECT_EQ(text->frame_count(), 5);

    request.params.conditioning.first_frame = "a.png";
    request.media.first_frame = solid(32, 32, 220, 40, 40);
    auto first = (*generator)->generate(request);
    ASSERT_TRUE(first.ok()) << first.message();
    EXPECT_NE(first->frames[1].rgb, text->frames[1].rgb);  // the frame reached the model

    request.params.conditioning.first_frame.clear();
    request.media.first_frame.reset();
    request.params.conditioning.references = {"r.png"};
    request.media.references = {solid(20, 40, 40, 80, 230)};  // fitted on white
    auto ref = (*generator)->generate(request);
    ASSERT_TRUE(ref.ok()) << ref.message();
    EXPECT_EQ(ref->frame_count(), 5);  // the reference's latent frame is not output
    EXPECT_NE(ref->frames[2].rgb, text->frames[2].rgb);

    request.params.conditioning.references.clear();
    request.media.references.clear();
    request.params.conditioning.extend = "clip.mp4";
    for (int i = 0; i < 6; ++i) request.media.extend_source.frames.push_back(solid(32, 32, 40 * i, 100, 100));
    request.media.keep_source = true;
    request.params.conditioning.keep_source = true;
    auto extended = (*generator)->generate(request);
    ASSERT_TRUE(extended.ok()) << extended.message();
    // The whole source, then the frames made after the given ones (5 − 4 here).
    EXPECT_EQ(extended->frame_count(), 6 + 1);
    EXPECT_EQ(extended->frames[0].rgb, request.media.extend_source.frames[0].rgb);
}

TEST(WanImagePipeline, VaceInPaintsTheMaskedPixelsOfAVideo) {
    test::TempDir root("fl-wan-vace-mask");
    const ModelCard card = tiny_vace_card(root.path(), 1, {"t2v", "inpaint", "control"});
    auto codec = load_codec(card, torch::kCPU);
    ASSERT_TRUE(codec.ok()) << codec.message();

    // A 5-frame clip and a mask image whose right half is white (generate) and left half black (keep).
    core::ConditioningMedia media;
    for (int i = 0; i < 6; ++i) media.video.frames.push_back(solid(32, 32, 40 * i, 100, 100));
    core::Frame mask(32, 32);
    for (int y = 0; y < 32; ++y)
        for (int x = 16; x < 32; ++x) std::fill_n(mask.pixel(x, y), 3, 255);
    media.mask = {mask};
    auto made = make_vace_condition(media, **codec, 5, 32, 32, 0);
    ASSERT_TRUE(made.ok()) << made.message();
    // Context [1, 2·4 + 64, 2, 4, 4]: mask channels 1 on the right half's cells only, on every latent frame.
    const torch::Tensor m = made->context.narrow(1, 8, 64);
    EXPECT_TRUE(m.narrow(4, 2, 2).eq(1).all().item<bool>());
    EXPECT_TRUE(m.narrow(4, 0, 2).eq(0).all().item<bool>());
    // The inactive latent is the VAE's of the kept pixels (right half zero), the reactive one of the rest.
    torch::Tensor source = torch::empty({1, 3, 5, 32, 32});
    for (int64_t i = 0; i < 5; ++i)
        source[0].select(1, i).copy_(frame_to_tensor(media.video.frames[static_cast<size_t>(i)], 32, 32));
    torch::Tensor keep = torch::ones({1, 1, 1, 32, 32});
    keep.narrow(4, 16, 16).zero_();
    const torch::Tensor inactive = (*codec)->encode(source * keep);
    const torch::Tensor reactive = (*codec)->encode(source * (1 - keep));
    EXPECT_LE((made->context.narrow(1, 0, 4) - inactive).abs().max().item<double>(), 1e-5);
    EXPECT_LE((made->context.narrow(1, 4, 4) - reactive).abs().max().item<double>(), 1e-5);

    // Without a mask the whole clip is reactive (a control video); too short a clip or mask is an error.
    media.mask.clear();
    made = make_vace_condition(media, **codec, 5, 32, 32, 0);
    ASSERT_TRUE(made.ok()) << made.message();
    EXPECT_TRUE(made->context.narrow(1, 8, 64).eq(1).all().item<bool>());
    EXPECT_LE((made->context.narrow(1, 0, 4) - (*codec)->encode(torch::zeros_like(source)))
                  .abs()
                  .max()
                  .item<double>(),
              1e-5);
    EXPECT_LE((made->context.narrow(1, 4, 4) - (*codec)->encode(source)).abs().max().item<double>(), 1e-5);
    media.mask = {mask, mask};
    made = make_vace_condition(media, **codec, 5, 32, 32, 0);
    ASSERT_FALSE(made.ok());
    EXPECT_NE(made.message().find("--mask has 2 frames, the shot needs 5"), std::string::npos)
        << made.message();
    media.mask.clear();
    made = make_vace_condition(media, **codec, 9, 32, 32, 0);
    ASSERT_FALSE(made.ok());
    EXPECT_NE(made.message().find("--video has 6 frames, the shot needs 9"), std::string::npos)
        << made.message();

    // Through the pipeline: the masked run differs from text alone and keeps its frame count.
    auto generator = load_on_cpu(card);
    ASSERT_TRUE(generator.ok()) << generator.message();
    GenerateRequest request = image_request(card);
    auto text = (*generator)->generate(request);
    ASSERT_TRUE(text.ok()) << text.message();
    request.params.conditioning.video = "clip.mp4";
    request.params.conditioning.mask = "mask.png";
    request.media.video = media.video;
    request.media.mask = {mask};
    auto painted = (*generator)->generate(request);
    ASSERT_TRUE(painted.ok()) << painted.message();
    EXPECT_EQ(painted->frame_count(), 5);
    EXPECT_NE(painted->frames[2].rgb, text->frames[2].rgb);
}

TEST(WanImagePipeline, VideoAndMaskNeedAModelThatListsThem) {
    test::TempDir root("fl-wan-vace-mask");
    const ModelCard card = tiny_vace_card(root.path(), 1, {"t2v", "control"});
    auto generator = load_on_cpu(card);
    ASSERT_TRUE(generator.ok()) << generator.message();
    GenerateRequest request = image_request(card);
    request.params.conditioning.video = "clip.mp4";
    request.params.conditioning.mask = "mask.png";
    auto r = (*generator)->generate(request);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.message().find("does not support --video with --mask (in-painting)"), std::string::npos)
        << r.message();
    // A mask needs its clip; a clip sets every frame, so it excludes first/last frames and extensions.
    request.params.conditioning.video.clear();
    EXPECT_NE(request.params.validate().message().find("--mask needs the clip it masks"), std::string::npos);
    request.params.conditioning.video = "clip.mp4";
    request.params.conditioning.first_frame = "a.png";
    EXPECT_NE(request.params.validate().message().find("--video gives every frame"), std::string::npos);
}

}  // namespace
}  // namespace fl::inference
