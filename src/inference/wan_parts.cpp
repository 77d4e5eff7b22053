#include "inference/wan_parts.h"

#include "inference/arch/wan/component_keys.h"
#include "inference/arch/wan/config_util.h"
#include "inference/arch/wan/dit_keys.h"
#include "inference/frame_conditioning.h"
#include "inference/tensor_io.h"
#include "inference/weight_source.h"

namespace fl::inference {

core::Result<WanParts> load_wan_parts(const ModelCard& card, torch::Device device,
                                      wan::DiTPrecision precision) {
    if (card.architecture != "wan-dit")
        return core::fail("model '" + card.id + "' has architecture '" + card.architecture +
                          "', which this pipeline cannot run");
    if (const auto missing = card.missing(); !missing.empty()) {
        std::string list;
        for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m.what + " (" + m.path + ")";
        return core::fail("model '" + card.id + "' is missing " + list + ": put the files under " +
                          card.root.string() + " (`frameloom models` says where to get them)");
    }
    auto codec = load_codec(card, device);
    if (!codec) return codec.error();
    auto tokenizer = Tokenizer::load(card.file("tokenizer"));
    if (!tokenizer) return tokenizer.error();

    // Original .pth, Hugging Face/ComfyUI safetensors (fp16, bf16 or fp8-scaled), or this project's own.
    auto t5 = wan::load_t5_encoder(card.file("text_encoder"));
    if (!t5) return t5.error();
    const wan::T5Config& t5_config = (*t5)->config();

    // A single file, an index.json or a folder of shards; original, ComfyUI-prefixed, diffusers or fp8-scaled.
    auto dit_weights = wan::open_dit_weights(card.file("dit"));
    if (!dit_weights) return dit_weights.error();
    auto dit_config = wan::WanDiTConfig::from_shapes(dit_weights->shapes(), dit_weights->metadata());
    if (!dit_config) return core::fail(dit_config.message() + " (in " + dit_weights->path().string() + ")");
    FL_TRY(dit_config->validate());
    const int64_t latent_channels = (*codec)->latent_channels();
    const int64_t flags = card.conditioning != "frame-mask" ? 0
                          : card.position_channels          ? kFrameMaskFlags + kFrameMaskPositions
                                                            : kFrameMaskFlags;
    const bool wan_image_y = card.conditioning.empty() && dit_config->in_dim > latent_channels &&
                             (dit_config->model_type == "i2v" || dit_config->model_type == "flf2v");
    if ((!wan_image_y && dit_config->in_dim != latent_channels + flags) || dit_config->out_dim != latent_channels)
        return core::fail("model '" + card.id + "' is inconsistent: the DiT takes " +
                          std::to_string(dit_config->in_dim) + " channels but the codec gives " +
                          std::to_string(latent_channels) +
                          (card.position_channels ? " (+2 frame-mask flags, +3 position channels)"
                           : flags                ? " (+2 frame-mask flags)"
                                                  : ""));
    if (dit_config->text_dim != t5_config.dim)
        return core::fail("model '" + card.id + "' is inconsistent: the DiT expects text features of width " +
                          std::to_string(dit_config->text_dim) + ", the text encoder gives " +
                          std::to_string(t5_config.dim));
    wan::WanDiT dit(*dit_config, /*initialise=*/false);  // every parameter is loaded next
    // Cast before loading, so a bf16 DiT never exists in fp32 (a 14B model: 28 GB instead of 56 GB).
    dit->set_precision(precision);
    FL_TRY(load_module(*dit, *dit_weights));
    wan::CLIPVision clip{nullptr};
    if (dit_config->image_cross_attn) {
        if (card.file("clip_vision").empty())
            return core::fail(
                "model '" + card.id + "' takes CLIP image tokens but its card names no " +
                "files.clip_vision (add models_clip_open-clip-xlm-roberta-large-vit-huge-14.pth "
                "or clip_vision_h.safetensors)");
        auto loaded = wan::load_clip_vision(card.file("clip_vision"));
        if (!loaded) return loaded.error();
        if ((*loaded)->config().dim != dit_config->clip_dim)
            return core::fail("model '" + card.id + "' is inconsistent: the DiT takes CLIP tokens of width " +
                              std::to_string(dit_config->clip_dim) + ", the CLIP tower gives " +
                              std::to_string((*loaded)->config().dim));
        clip = *loaded;
        clip->to(device);
    }
    return WanParts{std::move(*tokenizer), *t5, dit, std::move(*codec), clip};
}

torch::Tensor encode_prompts(const Tokenizer& tokenizer, wan::T5EncoderImpl& t5, const std::vector<std::string>& prompts,
                             int64_t text_len) {
    std::vector<int64_t> ids;
    ids.reserve(prompts.size() * static_cast<size_t>(text_len));
    for (const auto& prompt : prompts) {
        const Tokens tokens = tokenizer.encode(prompt, text_len);
        ids.insert(ids.end(), tokens.ids.begin(), tokens.ids.end());
    }
    const auto b = static_cast<int64_t>(prompts.size());
    const torch::Tensor id_tensor = torch::tensor(ids, torch::kInt64).view({b, text_len});  // [B, L]
    const torch::Tensor mask = (id_tensor != 0).to(torch::kInt64);  // pad is 0; EOS is 1 and counts
    const torch::Tensor out = t5.forward(id_tensor, mask);          // [B, L, D]
    return (out * mask.unsqueeze(-1).to(out.scalar_type())).to(torch::kFloat32);
}

}  // namespace fl::inference
