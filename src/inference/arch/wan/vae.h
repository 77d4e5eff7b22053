#pragma once
/// The Wan2.1 video VAE (`Wan2.1_VAE.pth` layout, reference/wan.md §3.1): chunked causal encode (frame 0,
/// then chunks of 4) and decode (one latent frame at a time) with feature caches, reproduced literally.
/// Modules are named exactly as the checkpoint keys: encoder, conv1, conv2, decoder.

#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

#include "frameloom/core/result.h"
#include "frameloom/inference/safetensors.h"
#include "inference/arch/wan/vae_blocks.h"

namespace fl::inference::wan {

/// Shapes of a Wan VAE (2.1, or 2.2 with `dec_dim` and the 2×2 patchify). Read from the weights' shapes;
/// a metadata "config" JSON (the reference constructor arguments) overrides.
struct WanVAEConfig {
    /// Wan2.1 (`Wan2.1_VAE.pth`) or Wan2.2 (`Wan2.2_VAE.pth`: patchify, AvgDown3D/DupUp3D stages, dec_dim).
    enum class Layout { Wan21, Wan22 };
    Layout layout = Layout::Wan21;
    int64_t dim = 96;
    int64_t dec_dim = 96;  ///< decoder base width (Wan2.2: 256; Wan2.1: equals dim)
    int64_t z_dim = 16;
    std::vector<int64_t> dim_mult{1, 2, 4, 4};
    int64_t num_res_blocks = 2;
    std::vector<double> attn_scales;                           ///< always empty in released models
    std::vector<bool> temperal_downsample{false, true, true};  ///< encoder stages; the decoder reverses it
    int64_t patch = 1;                                         ///< pixel shuffle before/after (2 for Wan2.2)
    /// Per-channel latent normalisation: z_norm = (mu − mean)/std. The released values for z_dim 16 and 48,
    /// metadata "latent_mean"/"latent_std" for others, else 0 and 1.
    std::vector<double> latent_mean, latent_std;
    /// Key prefix of the weights ("" or e.g. "vae."), as from_shapes found it.
    std::string prefix;

    /// Video frames per latent frame after the first, and pixels per latent cell: (4, 8·patch).
    int64_t stride_t() const;
    int64_t stride_s() const { return 8 * patch; }
    /// (F−1)/4+1 latent frames for F = 4n+1 video frames; 1+4(T−1) video frames for T latent frames.
    int64_t latent_frames(int64_t frames) const { return (frames - 1) / stride_t() + 1; }
    int64_t video_frames(int64_t latent_frames) const { return 1 + stride_t() * (latent_frames - 1); }
    /// "Wan VAE: 10 frames cannot be encoded: the frame count must be 4n+1 (…)" and the like, on one line.
    core::Result<void> check_video(int64_t frames, int64_t height, int64_t width) const;

    /// Wan2.1 layout from a key → shape map (keys `encoder.downsamples.N.…`) and header metadata.
    static core::Result<WanVAEConfig> from_shapes(const std::map<std::string, std::vector<int64_t>>& shapes,
                                                  const std::map<std::string, std::string>& metadata,
                                                  const std::string& prefix = "");
    /// The same from an open checkpoint.
    static core::Result<WanVAEConfig> from_weights(const SafeTensorsFile& file,
                                                   const std::string& prefix = "");
    /// Errors when the combination is impossible (sizes, mean/std length, stage count).
    core::Result<void> validate() const;
    /// Fills latent_mean/latent_std from metadata or the released tables when they are empty.
    core::Result<void> resolve_latent_stats(const std::map<std::string, std::string>& metadata);
};

/// The released latent statistics (reference/wan.md §3.1, §3.2) for z_dim 16 or 48; empty otherwise.
std::vector<double> wan_latent_mean(int64_t z_dim);
std::vector<double> wan_latent_std(int64_t z_dim);

/// Clamps decoded video to [−1, 1] as the reference does after decode.
torch::Tensor clamp_video(const torch::Tensor& video);

/// WanVAE_ of either layout (the Wan2.2 stage lists come from vae22.h). encode/decode take and give batches;
/// all in the weights' dtype (fp32 as the reference).
class WanVAEImpl : public torch::nn::Module {
public:
    explicit WanVAEImpl(const WanVAEConfig& config);

    /// video: [B, 3, F, H, W] in [−1, 1], F = 4n+1, H and W multiples of s = 8·patch → normalised mu
    /// [B, z, (F−1)/4+1, H/s, W/s]. Throws c10::Error with check_video's message on other shapes.
    torch::Tensor encode(const torch::Tensor& video);
    /// latent: [B, z, T, h, w] normalised → [B, 3, 1+4(T−1), s·h, s·w] before the clamp.
    torch::Tensor decode(const torch::Tensor& latent);
    /// The same, handing each latent frame's pixels ([B, 3, 1 or 4, s·h, s·w]) to `sink` as it is decoded,
    /// so only the causal cache outlives a frame.
    /// With `tile` > 0 the decode runs over spatial tiles of `tile` latent cells (overlapping by a quarter),
    /// bounding the activations by a tile's (decode_chunked_tiled: close to, not identical with, the
    /// reference's whole-frame decode).
    void decode_chunks(const torch::Tensor& latent, const FrameSink& sink, int64_t tile = 0);

    const WanVAEConfig& config() const { return config_; }

private:
    WanVAEConfig config_;
    Encoder3d encoder_{nullptr};
    Decoder3d decoder_{nullptr};
    CausalConv3d conv1_{nullptr}, conv2_{nullptr};
};
TORCH_MODULE(WanVAE);

/// (mu − mean)·(1/std) per channel, as the reference's scale = [mean, 1/std]; mu: [B, z, T, h, w].
torch::Tensor normalise_latent(const torch::Tensor& mu, const WanVAEConfig& config);
/// z/(1/std) + mean per channel (the inverse, before conv2).
torch::Tensor denormalise_latent(const torch::Tensor& z, const WanVAEConfig& config);

namespace vae_detail {
/// Shared by both layouts: shape lookups and the metadata override of the config fields.
using ShapeMap = std::map<std::string, std::vector<int64_t>>;
/// The prefix in front of `anchor` (exact key, else any key ending in "." + anchor), or "".
std::string find_prefix(const ShapeMap& shapes, const std::string& anchor, const std::string& given);
/// Applies the metadata "config" JSON (dim, dec_dim, z_dim, dim_mult, num_res_blocks, attn_scales,
/// temperal_downsample) over `c`.
core::Result<void> apply_metadata(WanVAEConfig& c, const std::map<std::string, std::string>& metadata);
}  // namespace vae_detail

}  // namespace fl::inference::wan
