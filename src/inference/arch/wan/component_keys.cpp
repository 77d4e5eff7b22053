#include "inference/arch/wan/component_keys.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "inference/arch/wan/config_util.h"

namespace fl::inference::wan {

namespace {

/// Copies `state` into every parameter of `module` (names as the module's); missing or misshapen ones are
/// errors naming the key and `where`.
core::Result<void> fill_from(torch::nn::Module& module, const std::map<std::string, torch::Tensor>& state,
                             const std::string& where) {
    torch::NoGradGuard no_grad;
    for (auto& p : module.named_parameters()) {
        const auto it = state.find(p.key());
        if (it == state.end())
            return core::fail("checkpoint " + where + " has no weight for '" + p.key() + "'");
        if (it->second.sizes() != p.value().sizes())
            return core::fail("checkpoint " + where + ": '" + p.key() + "' does not fit the model's shape");
        p.value().copy_(it->second.to(p.value().scalar_type()));
    }
    return core::ok();
}

/// A Hugging Face CLIPVisionModel (keys after `vision_model.`) as the release's `visual.*` state, q/k/v
/// fused.
core::Result<std::map<std::string, torch::Tensor>> clip_from_hf(const WeightSource& source) {
    std::map<std::string, torch::Tensor> out;
    const auto read = [&](const std::string& key) { return source.read(key); };
    const auto take = [&](const std::string& from, const std::string& to) -> core::Result<void> {
        auto t = read(from);
        if (!t) return t.error();
        out["visual." + to] = *t;
        return core::ok();
    };
    FL_TRY(take("embeddings.patch_embedding.weight", "patch_embedding.weight"));
    auto cls = read("embeddings.class_embedding");
    if (!cls) return cls.error();
    out["visual.cls_embedding"] = cls->reshape({1, 1, -1});
    auto pos = read("embeddings.position_embedding.weight");
    if (!pos) return pos.error();
    out["visual.pos_embedding"] = pos->unsqueeze(0);
    for (const char* part : {"weight", "bias"}) {
        const std::string p = part;
        FL_TRY(take("pre_layrnorm." + p, "pre_norm." + p));
        for (int64_t i = 0; source.find("encoder.layers." + std::to_string(i) + ".layer_norm1.weight"); ++i) {
            const std::string from = "encoder.layers." + std::to_string(i) + ".",
                              to = "transformer." + std::to_string(i) + ".";
            FL_TRY(take(from + "layer_norm1." + p, to + "norm1." + p));
            FL_TRY(take(from + "layer_norm2." + p, to + "norm2." + p));
            FL_TRY(take(from + "mlp.fc1." + p, to + "mlp.0." + p));
            FL_TRY(take(from + "mlp.fc2." + p, to + "mlp.2." + p));
            FL_TRY(take(from + "self_attn.out_proj." + p, to + "attn.proj." + p));
            std::vector<torch::Tensor> qkv;
            for (const char* x : {"q", "k", "v"}) {
                auto t = read(from + "self_attn." + x + "_proj." + p);
                if (!t) return t.error();
                qkv.push_back(*t);
            }
            out["visual." + to + "attn.to_qkv." + p] = torch::cat(qkv, 0);
        }
    }
    return out;
}

}  // namespace

core::Result<CLIPVision> load_clip_vision(const std::filesystem::path& path) {
    auto source = WeightSource::open(path);
    if (!source) return source.error();
    const std::string hf_anchor = "embeddings.patch_embedding.weight";
    if (source->has_key_ending(hf_anchor)) {
        source->strip_prefix_before(hf_anchor);
        auto state = clip_from_hf(*source);
        if (!state) return core::fail(state.message() + " (in " + path.string() + ")");
        std::map<std::string, std::vector<int64_t>> shapes;
        for (const auto& [k, v] : *state) shapes[k] = v.sizes().vec();
        auto config = CLIPVisionConfig::from_shapes(shapes, source->metadata(), "visual.");
        if (!config) return core::fail(config.message() + " (in " + path.string() + ")");
        FL_TRY(config->validate());
        CLIPVision clip(*config);
        std::map<std::string, torch::Tensor> unprefixed;
        for (auto& [k, v] : *state) unprefixed[k.substr(7)] = v;  // without "visual."
        FL_TRY(fill_from(*clip, unprefixed, path.string()));
        clip->eval();
        return clip;
    }
    // The release's open-clip archive: `visual.*` beside `textual.*` (and anything else), perhaps prefixed.
    source->strip_prefix_before("visual.patch_embedding.weight");
    auto config = config_from_source<CLIPVisionConfig>(*source, "visual.");
    if (!config) return config.error();
    FL_TRY(config->validate());
    source->strip_prefix("visual.");
    CLIPVision clip(*config);
    // The last block, post_norm and head are in the file but unused by Wan, so not strict.
    FL_TRY(load_module(*clip, *source, /*strict=*/false));
    clip->eval();
    return clip;
}

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
    if (!source->has_key_ending(hf_anchor)) {
        // Original names, perhaps under a prefix.
        source->strip_prefix_before("token_embedding.weight");
    } else {
        source->strip_prefix_before(hf_anchor);
        // The embedding is `shared` with a tied copy `encoder.embed_tokens` (either may be the one stored).
        if (!source->find("shared.weight") && source->find("encoder.embed_tokens.weight"))
            FL_TRY(source->rename({{"encoder.embed_tokens.", "shared."}}));
        source->drop_if([](const std::string& k) {
            return k == "encoder.embed_tokens.weight" || k.starts_with("decoder.") ||
                   k.starts_with("lm_head.");
        });
        FL_TRY(source->rename(hf_t5_to_original_renames()));
    }
    // ComfyUI may embed the tokenizer model as a byte tensor; it is read from the tokenizer file instead.
    source->drop_if([](const std::string& k) { return k == "spiece_model"; });
    if (!source->find("token_embedding.weight"))
        return core::fail(
            "not a T5 encoder checkpoint: " + path.string() +
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
        if (name.find("encoder.conv_in.") != std::string::npos ||
            name.find("down_blocks.") != std::string::npos)
            return core::fail("VAE " + path.string() +
                              " is in the diffusers layout, which is not supported: use Wan2.1_VAE.pth / "
                              "Wan2.2_VAE.pth or ComfyUI's wan_2.1_vae.safetensors / wan2.2_vae.safetensors");
    return source;
}

}  // namespace fl::inference::wan
