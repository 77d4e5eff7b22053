#include "frameloom/inference/model_builder.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "frameloom/core/atomic_file.h"
#include "frameloom/core/shapes_world.h"
#include "inference/arch/wan/dit.h"
#include "inference/arch/wan/t5.h"
#include "inference/tensor_io.h"
#include "inference/tokenizer.h"

namespace fl::inference {
namespace fs = std::filesystem;

std::vector<std::string> shapes_world_sentences() {
    // Every combination's canonical prompt plus seeded paraphrases (word order, synonyms, case, punctuation).
    namespace shapes = core::shapes;
    std::vector<std::string> out;
    std::mt19937_64 rng(20261125);
    for (int combo = 0; combo < shapes::kCombinations; ++combo) {
        const shapes::Scene scene = shapes::scene_of(combo);
        out.push_back(shapes::canonical_prompt(scene));
        for (int k = 0; k < 4; ++k) out.push_back(shapes::paraphrase(scene, rng));
        out.push_back(shapes::paraphrase_unnamed(scene, rng));
    }
    return out;
}

namespace {

core::Result<void> write_module(const fs::path& path, const torch::nn::Module& module,
                                std::map<std::string, std::string> metadata) {
    return write_safetensors(path, module_blobs(module), metadata);
}

}  // namespace

core::Result<ModelCard> build_default_model(const fs::path& root, const DefaultModelSpec& spec) {
    std::error_code ec;
    fs::create_directories(root / "text_encoders", ec);
    fs::create_directories(root / "diffusion_models", ec);
    if (ec) return core::fail("cannot create model folders in " + root.string() + ": " + ec.message());

    const std::string tokenizer_rel = "text_encoders/" + spec.id + "-spm.model";
    const std::string t5_rel = "text_encoders/" + spec.id + "-t5.safetensors";
    const std::string dit_rel = "diffusion_models/" + spec.id + ".safetensors";

    FL_TRY(Tokenizer::train(shapes_world_sentences(), spec.vocab, root / tokenizer_rel));
    auto tokenizer = Tokenizer::load(root / tokenizer_rel);
    if (!tokenizer) return tokenizer.error();

    // Module initialisation draws from LibTorch's default generator; seed it so the spec fixes the weights.
    torch::manual_seed(spec.seed);
    wan::T5Config t5c;
    t5c.vocab = tokenizer->vocab_size();
    t5c.dim = t5c.dim_attn = spec.t5_dim;
    t5c.dim_ffn = spec.t5_ffn;
    t5c.num_heads = spec.t5_heads;
    t5c.num_layers = spec.t5_layers;
    wan::T5Encoder t5(t5c);
    FL_TRY(write_module(root / t5_rel, *t5,
                       {{"format", "pt"}, {"architecture", "umt5-encoder"}, {"num_heads", std::to_string(spec.t5_heads)}}));

    wan::WanDiTConfig dc;
    // Known frames and reference images enter beside the noise (frame_conditioning.h), as Wan's i2v y does.
    dc.model_type = "i2v";
    dc.dim = spec.dit_dim;
    dc.ffn_dim = spec.dit_ffn;
    dc.freq_dim = spec.dit_freq_dim;
    dc.text_dim = spec.t5_dim;
    dc.text_len = spec.text_len;
    dc.num_heads = spec.dit_heads;
    dc.num_layers = spec.dit_layers;
    dc.out_dim = 3 * spec.patch * spec.patch;
    dc.in_dim = dc.out_dim + 2;  // + known and reference flags
    dc.patch = {spec.temporal_patch, 1, 1};
    FL_TRY(dc.validate());
    wan::WanDiT dit(dc);
    // The reference initialises the output head to zero, which would make an untrained model return its
    // starting noise whatever the prompt; a small random head lets the prompt and guidance reach the pixels.
    {
        torch::NoGradGuard no_grad;
        for (auto& p : dit->named_parameters())
            if (p.key().rfind("head.head.", 0) == 0) p.value().normal_(0.0, 0.02);
    }
    FL_TRY(write_module(root / dit_rel, *dit,
                       {{"format", "pt"},
                        {"architecture", "wan-dit"},
                        {"model_type", dc.model_type},
                        {"num_heads", std::to_string(dc.num_heads)},
                        {"text_len", std::to_string(dc.text_len)}}));

    nlohmann::ordered_json card;
    card["id"] = spec.id;
    card["aliases"] = {"default"};
    card["name"] = "Frameloom shapes (tiny, untrained)";
    card["description"] =
        "Embedded default model: a " + std::to_string(spec.dit_layers) + "-layer Wan DiT (tokens of " +
        std::to_string(spec.temporal_patch) + " frames x " + std::to_string(spec.patch) + "x" +
        std::to_string(spec.patch) + " pixels) with a " + std::to_string(spec.t5_layers) +
        "-layer umT5-style text encoder, a pixel patch codec and frame-mask conditioning (first/last frame, "
        "extension, reference images). Untrained: a seeded random initialisation.";
    card["architecture"] = "wan-dit";
    card["codec"] = "patch";
    card["codec_patch"] = {1, spec.patch, spec.patch};
    card["conditioning"] = "frame-mask";
    card["prediction"] = "x0";
    card["files"] = {{"dit", dit_rel}, {"text_encoder", t5_rel}, {"tokenizer", tokenizer_rel}};
    card["tasks"] = {"t2v", "i2v", "flf2v", "extend", "reference"};
    card["defaults"] = {{"steps", 12}, {"guidance", 5.0}, {"shift", 3.0}, {"width", 64},
                        {"height", 64}, {"frames", 16}, {"fps", "8"}, {"negative_prompt", ""}};
    card["trained"] = false;
    card["build"] = {{"command", "frameloom init-model --seed " + std::to_string(spec.seed)},
                     {"seed", spec.seed},
                     {"parameters_dit", 0},
                     {"parameters_text_encoder", 0}};
    int64_t dit_params = 0, t5_params = 0;
    for (const auto& p : dit->parameters()) dit_params += p.numel();
    for (const auto& p : t5->parameters()) t5_params += p.numel();
    card["build"]["parameters_dit"] = dit_params;
    card["build"]["parameters_text_encoder"] = t5_params;

    const fs::path card_path = root / (spec.id + ".json");
    FL_TRY(core::write_file_atomically(card_path, card.dump(2) + "\n"));
    return load_model_card(card_path);
}

}  // namespace fl::inference
