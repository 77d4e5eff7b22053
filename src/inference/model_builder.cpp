#include "frameloom/inference/model_builder.h"

#include <torch/torch.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "frameloom/core/atomic_file.h"
#include "frameloom/core/shapes_world.h"
#include "inference/arch/wan/dit.h"
#include "inference/arch/wan/t5.h"
#include "inference/frame_conditioning.h"
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

core::Result<void> copy_file_atomically(const fs::path& from, const fs::path& to) {
    auto bytes = core::read_file(from);
    if (!bytes) return core::fail(bytes.message() + " (check the source model's files)");
    return core::write_file_atomically(to, *bytes);
}

/// Fills `dit` from a trained DiT of the same family whose tokens may span k times as many frames; every
/// other tensor must match in shape (the error names the first that does not).
core::Result<void> load_retokened_dit(wan::WanDiT& dit, const fs::path& file) {
    auto source = SafeTensorsFile::open(file);
    if (!source) return source.error();
    const wan::WanDiTConfig& c = dit->config();
    torch::NoGradGuard no_grad;
    for (auto& p : dit->named_parameters()) {
        const std::string& key = p.key();
        // A pooled-text path the source lacks keeps its zero start (the new model behaves as the old).
        // So does a detail head (its output layer starts at zero).
        if ((key.rfind("text_pooling.", 0) == 0 || key.rfind("detail_head.", 0) == 0) && !source->find(key))
            continue;
        auto old = read_tensor(*source, key);
        if (!old) return old.error();
        torch::Tensor value = old->to(torch::kFloat32);
        torch::Tensor& target = p.value();
        if (value.sizes() != target.sizes()) {
            if (key == "patch_embedding.weight" && value.dim() == 5 && value.size(2) % c.patch[0] == 0) {
                // [dim, in, pt_old, 1, 1] → [dim, in, pt, 1, 1]: new tap t sums the old taps it covers.
                const int64_t k = value.size(2) / c.patch[0];
                value =
                    value.view({value.size(0), value.size(1), c.patch[0], k, value.size(3), value.size(4)})
                        .sum(3);
                // Input channels added after the old ones (position channels) start with zero weight.
                if (value.size(1) < target.size(1))
                    value = torch::cat({value, torch::zeros({value.size(0), target.size(1) - value.size(1),
                                                             value.size(2), value.size(3), value.size(4)})},
                                       1);
            } else if ((key == "head.head.weight" || key == "head.head.bias") &&
                       value.size(0) % target.size(0) == 0) {
                // Output rows (pt_old, c) → (pt, c): the mean of the k old frames a new frame stands for.
                const int64_t k = value.size(0) / target.size(0);
                auto rest = value.sizes().slice(1).vec();
                std::vector<int64_t> shape{c.patch[0], k, c.out_dim};
                shape.insert(shape.end(), rest.begin(), rest.end());
                value = value.view(shape).mean(1).reshape(target.sizes());
            }
        }
        if (value.sizes() != target.sizes())
            return core::fail("cannot start from " + file.string() + ": its '" + key + "' is " +
                              shape_text(old->sizes()) + ", this architecture needs " +
                              shape_text(target.sizes()) +
                              " (only the frames per token and the position channels may differ)");
        target.copy_(value);
    }
    return {};
}

}  // namespace

core::Result<ModelCard> build_default_model(const fs::path& root, const DefaultModelSpec& requested) {
    DefaultModelSpec spec = requested;
    std::error_code ec;
    fs::create_directories(root / "text_encoders", ec);
    fs::create_directories(root / "diffusion_models", ec);
    if (ec) return core::fail("cannot create model folders in " + root.string() + ": " + ec.message());

    const std::string tokenizer_rel = "text_encoders/" + spec.id + "-spm.model";
    const std::string t5_rel = "text_encoders/" + spec.id + "-t5.safetensors";
    const std::string dit_rel = "diffusion_models/" + spec.id + ".safetensors";

    std::optional<ModelCard> from;
    if (!spec.from_card.empty()) {
        auto source = load_model_card(spec.from_card);
        if (!source) return source.error();
        if (source->conditioning != "frame-mask" || source->codec != "patch")
            return core::fail(
                "cannot start from model '" + source->id +
                "': only a shapes-world model (patch codec, frame-mask conditioning) can seed this one");
        from = *source;
        // A source with position channels keeps them: its trained weights read them.
        if (from->position_channels) spec.position_channels = true;
        // Likewise a pooled-text path (read from its DiT's weights, as every loader reads it).
        auto dit_file = SafeTensorsFile::open(from->file("dit"));
        if (!dit_file) return dit_file.error();
        auto source_dit = wan::WanDiTConfig::from_weights(*dit_file);
        if (!source_dit) return source_dit.error();
        if (source_dit->pooled_text) spec.pooled_text = true;
        if (source_dit->detail_hidden > 0) spec.detail_hidden = source_dit->detail_hidden;
    }
    if (from)
        FL_TRY(copy_file_atomically(from->file("tokenizer"), root / tokenizer_rel));
    else
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
    if (from) {
        auto t5_file = SafeTensorsFile::open(from->file("text_encoder"));
        if (!t5_file) return t5_file.error();
        FL_TRY(load_module(*t5, *t5_file));
    }
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
    // + known and reference flags (+ time, row and column)
    dc.in_dim = dc.out_dim + kFrameMaskFlags + (spec.position_channels ? kFrameMaskPositions : 0);
    dc.patch = {spec.temporal_patch, 1, 1};
    dc.pooled_text = spec.pooled_text;
    dc.detail_hidden = spec.detail_hidden;
    FL_TRY(dc.validate());
    wan::WanDiT dit(dc);
    // The reference initialises the output head to zero, which would make an untrained model return its
    // starting noise whatever the prompt; a small random head lets the prompt and guidance reach the pixels.
    {
        torch::NoGradGuard no_grad;
        for (auto& p : dit->named_parameters())
            if (p.key().rfind("head.head.", 0) == 0) p.value().normal_(0.0, 0.02);
    }
    if (from) FL_TRY(load_retokened_dit(dit, from->file("dit")));
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
        "extension, reference images). " +
        (from ? "Started from the weights of '" + from->id + "' (" + from->name +
                    "), not yet trained in this form."
              : std::string("Untrained: a seeded random initialisation."));
    card["architecture"] = "wan-dit";
    card["codec"] = "patch";
    card["codec_patch"] = {1, spec.patch, spec.patch};
    card["conditioning"] = "frame-mask";
    if (spec.position_channels) card["position_channels"] = true;
    card["prediction"] = "x0";
    card["files"] = {{"dit", dit_rel}, {"text_encoder", t5_rel}, {"tokenizer", tokenizer_rel}};
    card["tasks"] = {"t2v", "i2v", "flf2v", "extend", "reference"};
    card["defaults"] = {{"steps", 12}, {"guidance", 5.0}, {"shift", 3.0}, {"width", 64},
                        {"height", 64}, {"frames", 16}, {"fps", "8"}, {"negative_prompt", ""}};
    if (from) {
        // The source's tuned defaults (guidance, steps) are the best starting point for its successor.
        std::ifstream in(from->card_path);
        const auto source = nlohmann::ordered_json::parse(in, nullptr, /*allow_exceptions=*/false);
        if (source.is_object() && source.contains("defaults")) card["defaults"] = source["defaults"];
    }
    card["trained"] = false;
    std::string command = "frameloom init-model --seed " + std::to_string(spec.seed);
    if (spec.temporal_patch != DefaultModelSpec{}.temporal_patch)
        command += " --temporal-patch " + std::to_string(spec.temporal_patch);
    if (spec.position_channels) command += " --position-channels";
    if (spec.pooled_text) command += " --pooled-text";
    if (spec.detail_hidden > 0) command += " --detail-head " + std::to_string(spec.detail_hidden);
    if (spec.text_len != DefaultModelSpec{}.text_len)
        command += " --text-len " + std::to_string(spec.text_len);
    if (from) command += " --from " + from->card_path.string();
    card["build"] = {
        {"command", command}, {"seed", spec.seed}, {"parameters_dit", 0}, {"parameters_text_encoder", 0}};
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
