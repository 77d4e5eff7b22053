#include "inference/arch/wan/component_keys.h"

#include <algorithm>
#include <string>

#include "inference/arch/wan/config_util.h"

namespace fl::inference::wan {

namespace {

/// Strips whatever comes before `anchor` in the first key ending with ".<anchor>", when no key is `anchor`.
void strip_prefix_before(WeightSource& source, const std::string& anchor) {
    if (source.find(anchor)) return;
    for (const auto& [name, entry] : source.entries()) {
        if (name.size() > anchor.size() && name.ends_with("." + anchor)) {
            source.strip_prefix(name.substr(0, name.size() - anchor.size()));
            return;
        }
    }
}

}  // namespace

const KeyRenames& hf_t5_to_original_renames() {
    static const KeyRenames renames = {
        {"encoder.block.", "blocks."},
        // The bias table first: its key also holds ".layer.0.SelfAttention.".
        {".layer.0.SelfAttention.relative_attention_bias.", ".pos_embedding.embedding."},
        {".layer.0.SelfAttention.", ".attn."},
        {".layer.0.layer_norm.", ".norm1."},
        {".layer.1.layer_norm.", ".norm2."},
        {".layer.1.DenseReluDense.wi_0.", ".ffn.gate.0."},  // GELU(wi_0 x) · wi_1 x, as gate(x) · fc1(x)
        {".layer.1.DenseReluDense.wi_1.", ".ffn.fc1."},
        {".layer.1.DenseReluDense.wo.", ".ffn.fc2."},
        {"encoder.final_layer_norm.", "norm."},
        {"shared.", "token_embedding."},
    };
    return renames;
}

core::Result<WeightSource> open_t5_weights(const std::filesystem::path& path) {
    auto source = WeightSource::open(path);
    if (!source) return source.error();
    const std::string hf_anchor = "encoder.block.0.layer.0.SelfAttention.q.weight";
    const bool hf = std::any_of(source->entries().begin(), source->entries().end(),
                                [&](const auto& e) { return e.first.ends_with(hf_anchor); });
    if (!hf) {
        // Original names, perhaps under a prefix.
        strip_prefix_before(*source, "token_embedding.weight");
    } else {
        strip_prefix_before(*source, hf_anchor);
        // The embedding is `shared` with a tied copy `encoder.embed_tokens` (either may be the one stored).
        if (!source->find("shared.weight") && source->find("encoder.embed_tokens.weight"))
            FL_TRY(source->rename({{"encoder.embed_tokens.", "shared."}}));
        source->drop_if([](const std::string& k) {
            return k == "encoder.embed_tokens.weight" || k.starts_with("decoder.") || k.starts_with("lm_head.");
        });
        FL_TRY(source->rename(hf_t5_to_original_renames()));
    }
    // ComfyUI may embed the tokenizer model as a byte tensor; it is read from the tokenizer file instead.
    source->drop_if([](const std::string& k) { return k == "spiece_model"; });
    if (!source->find("token_embedding.weight"))
        return core::fail("not a T5 encoder checkpoint: " + path.string() +
                          " has neither 'token_embedding.weight' (original) nor 'shared.weight' (Hugging Face); "
                          "use models_t5_umt5-xxl-enc-bf16.pth or umt5_xxl_fp16.safetensors");
    return source;
}

core::Result<T5Encoder> load_t5_encoder(const std::filesystem::path& path) {
    auto weights = open_t5_weights(path);
    if (!weights) return weights.error();
    auto config = config_from_source<T5Config>(*weights, "");
    if (!config) return config.error();
    const DType stored = weights->find("token_embedding.weight")->info->dtype;
    T5Encoder t5(*config);
    if (stored != DType::F32 && stored != DType::F64) t5->to(torch::kBFloat16);
    FL_TRY(load_module(*t5, *weights));
    t5->eval();
    return t5;
}

core::Result<WeightSource> open_vae_weights(const std::filesystem::path& path) {
    auto source = WeightSource::open(path);
    if (!source) return source.error();
    for (const auto& [name, entry] : source->entries())
        if (name.find("encoder.conv_in.") != std::string::npos || name.find("down_blocks.") != std::string::npos)
            return core::fail("VAE " + path.string() +
                              " is in the diffusers layout, which is not supported: use Wan2.1_VAE.pth / "
                              "Wan2.2_VAE.pth or ComfyUI's wan_2.1_vae.safetensors / wan2.2_vae.safetensors");
    return source;
}

}  // namespace fl::inference::wan
