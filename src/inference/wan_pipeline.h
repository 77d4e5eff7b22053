#pragma once
/// The generation pipeline for Wan-architecture models: tokenizer → T5 encoder → flow-matching sampler over
/// the Wan DiT with CFG → codec decode; image conditioning by the card's frame-mask scheme or Wan's own
/// (y + CLIP tokens). Implements the public Generator.

#include <torch/torch.h>

#include <memory>
#include <optional>

#include "frameloom/inference/generator.h"
#include "inference/arch/wan/clip.h"
#include "inference/arch/wan/dit.h"
#include "inference/arch/wan/t5.h"
#include "inference/codec.h"
#include "inference/tokenizer.h"

namespace fl::inference {

/// A Wan DiT + T5 + video codec (patch codec or Wan VAE, from the card), loaded onto one device.
class WanPipeline final : public Generator {
public:
    static core::Result<std::unique_ptr<WanPipeline>> load(const ModelCard& card, const DevicePolicy& policy);

    const ModelCard& card() const override { return card_; }
    const DevicePolicy& policy() const override { return policy_; }
    core::Result<core::Video> generate(const GenerateRequest& request, GenerateStats* stats) override;

    /// Encodes a prompt to [1, text_len, text_dim] with rows beyond the prompt's length zeroed.
    torch::Tensor encode_text(const std::string& prompt);

private:
    WanPipeline(ModelCard card, DevicePolicy policy, Tokenizer tokenizer, wan::T5Encoder t5, wan::WanDiT dit,
                std::unique_ptr<VideoCodec> codec, wan::CLIPVision clip, torch::Device device);
    /// How given frames reach the DiT: the card's frame-mask flags, or (cards without "conditioning") Wan's
    /// own schemes, told by the checkpoint: y + CLIP (i2v), the same with a last frame (flf2v), the held
    /// first latent (TI2V) or the VACE context. None: text only.
    enum class Scheme { None, FrameMask, WanImage, WanFirstLast, TI2V, Vace };
    static Scheme scheme_of(const ModelCard& card, const wan::WanDiTConfig& dit);
    core::Result<core::Video> run(const GenerateRequest& request, GenerateStats* stats);
    /// An extension of media.extend_frames new frames: passes of run(), each continuing the last one's
    /// frames (seed + pass), joined and cut to the length.
    core::Result<core::Video> run_chain(const GenerateRequest& request, GenerateStats* stats);
    core::Result<void> check_request(const core::GenerationParams& params) const;

    ModelCard card_;
    DevicePolicy policy_;
    Tokenizer tokenizer_;
    wan::T5Encoder t5_;
    wan::WanDiT dit_;
    std::unique_ptr<VideoCodec> codec_;
    wan::CLIPVision clip_;  ///< Wan2.1 i2v/flf2v: the CLIP tower (null otherwise)
    torch::Device device_;
    Scheme scheme_;
    double load_seconds_ = 0.0;
};

}  // namespace fl::inference
