#pragma once
/// Builds the embedded default model's files (tokenizer, text encoder, DiT, card) into a model store.
/// Today the weights are a seeded random initialisation; training arrives with the "shapes world" model.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "frameloom/core/result.h"
#include "frameloom/inference/model_store.h"

namespace fl::inference {

/// Sizes of the default model (a small Wan DiT + small umT5-style encoder + 4×4 pixel patch codec).
struct DefaultModelSpec {
    std::string id = "shapes-tiny";
    uint64_t seed = 0;
    int vocab = 256;
    int64_t t5_dim = 64, t5_heads = 4, t5_ffn = 128, t5_layers = 2;
    int64_t dit_dim = 128, dit_heads = 4, dit_ffn = 384, dit_layers = 4, dit_freq_dim = 64, text_len = 32;
    int patch = 4;  ///< pixel patch of the codec (3·patch² latent channels)
};

/// Sentences of the shapes world (colours, shapes, motions, backgrounds, paraphrases) for the tokenizer.
std::vector<std::string> shapes_world_sentences();

/// Writes <root>/<id>.json, <root>/text_encoders/<id>-spm.model, <root>/text_encoders/<id>-t5.safetensors and
/// <root>/diffusion_models/<id>.safetensors. Same spec → identical weights.
core::Result<ModelCard> build_default_model(const std::filesystem::path& root, const DefaultModelSpec& spec = {});

}  // namespace fl::inference
