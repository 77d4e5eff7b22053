#pragma once
/// The seam between pixels and the DiT's latent space: RGB video [B, 3, F, H, W] in [−1, 1] ↔ latent
/// [B, C, T, h, w]. Implemented by the patch codec (default model) and the Wan2.1 / Wan2.2 VAEs; the
/// pipeline picks one from the model card's `codec` field.

#include <torch/torch.h>

#include <array>
#include <functional>
#include <memory>
#include <string>

#include "frameloom/core/result.h"

namespace fl::inference {

struct ModelCard;

/// Encodes and decodes video; decode streams temporal chunks so a long video never holds all activations.
class VideoCodec {
public:
    /// Receives decoded frames [B, 3, f, H, W] (not clamped) in order, a chunk at a time.
    using ChunkSink = std::function<void(const torch::Tensor&)>;

    virtual ~VideoCodec() = default;
    /// "patch", "wan-vae" or "wan22-vae".
    virtual std::string name() const = 0;
    /// Channels of the latent.
    virtual int64_t latent_channels() const = 0;
    /// Pixels per latent cell: {frames after the first, height, width}, e.g. {4, 8, 8} for the Wan2.1 VAE.
    virtual std::array<int64_t, 3> stride() const = 0;
    /// Latent frames for F video frames ((F−1)/4+1 for the VAEs, F for the patch codec).
    virtual int64_t latent_frames(int64_t frames) const = 0;
    /// Video frames that T latent frames decode to (1+4(T−1) for the VAEs).
    virtual int64_t video_frames(int64_t latent_frames) const = 0;
    /// Whether a video of this shape can be encoded; the error is one line saying what would fit.
    virtual core::Result<void> check_video(int64_t frames, int64_t height, int64_t width) const = 0;
    /// video: [B, 3, F, H, W] in [−1, 1] → latent [B, C, T, H/sh, W/sw]. Shapes check_video refuses throw.
    virtual torch::Tensor encode(const torch::Tensor& video) const = 0;
    /// latent: [B, C, T, h, w] → video [B, 3, F, h·sh, w·sw], not clamped.
    virtual torch::Tensor decode(const torch::Tensor& latent) const = 0;
    /// The same as decode, handed to `sink` in temporal chunks as they are made.
    virtual void decode_chunks(const torch::Tensor& latent, const ChunkSink& sink) const;
    /// Moves any weights to `device` (no-op for weightless codecs).
    virtual void to(torch::Device device) { (void)device; }
    /// decode_chunks in spatial tiles of about `pixels` × `pixels` (0: whole frames). Frame-local codecs
    /// ignore it (their activations are already small).
    virtual void set_decode_tile(int64_t pixels) { (void)pixels; }
};

/// The codec a model card asks for: "patch" (codec_patch), "wan-vae" or "wan22-vae" (files.vae: the
/// release's .pth or a safetensors file, see open_vae_weights), loaded onto `device`.
core::Result<std::unique_ptr<VideoCodec>> load_codec(const ModelCard& card, torch::Device device);

}  // namespace fl::inference
