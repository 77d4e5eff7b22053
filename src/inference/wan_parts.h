#pragma once
/// The trainable parts of a Wan-architecture model described by a card: tokenizer, text encoder, DiT,
/// codec. Shared by the generation pipeline and the trainer.

#include "frameloom/core/result.h"
#include "frameloom/inference/model_store.h"
#include "inference/arch/wan/clip.h"
#include "inference/arch/wan/dit.h"
#include "inference/arch/wan/t5.h"
#include "inference/codec.h"
#include "inference/tokenizer.h"

namespace fl::inference {

/// Modules of one model: text encoder and DiT on the CPU, the codec on `device`. The DiT's big products in
/// `precision`; the text encoder in its checkpoint's precision (bf16 for half-precision files).
struct WanParts {
    Tokenizer tokenizer;
    wan::T5Encoder t5;
    wan::WanDiT dit;
    std::unique_ptr<VideoCodec> codec;
    wan::CLIPVision clip{nullptr};  ///< Wan2.1 i2v/flf2v only (the DiT has img_emb), on `device`
};

/// Reads every file the card names and checks that the parts fit together (channels, text width).
core::Result<WanParts> load_wan_parts(const ModelCard& card, torch::Device device = torch::kCPU,
                                      wan::DiTPrecision precision = wan::DiTPrecision::F32);

/// Encodes prompts to [B, text_len, dim]: T5 over the tokens, rows beyond each prompt's length zeroed
/// (Wan slices to the true length and zero-pads inside the DiT). Differentiable when grad mode is on.
torch::Tensor encode_prompts(const Tokenizer& tokenizer, wan::T5EncoderImpl& t5, const std::vector<std::string>& prompts,
                             int64_t text_len);

}  // namespace fl::inference
