#pragma once
/// What the Wan2.2 VAE (`Wan2.2_VAE.pth`, reference/wan.md §3.2) adds to the shared blocks: the 2×2
/// patchify, AvgDown3D / DupUp3D shortcuts, Down_/Up_ResidualBlock stages (keys
/// `encoder.downsamples.{s}.downsamples.{j}`, `decoder.upsamples.{s}.upsamples.{j}`), first_chunk handling
/// and the separate decoder width dec_dim. The top-level module is WanVAE with Layout::Wan22.

#include <torch/torch.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "frameloom/core/result.h"
#include "frameloom/inference/safetensors.h"
#include "inference/arch/wan/vae.h"
#include "inference/arch/wan/vae_blocks.h"

namespace fl::inference::wan {

/// b c f (h q) (w r) → b (c r q) f h w; x: [B, C, F, H, W] → [B, C·p², F, H/p, W/p].
torch::Tensor patchify(const torch::Tensor& x, int64_t p);
/// The inverse: [B, C·p², F, h, w] → [B, C, F, h·p, w·p].
torch::Tensor unpatchify(const torch::Tensor& x, int64_t p);

/// Parameter-free shortcut: front zero-pad time to a multiple of factor_t, space/time-to-channel, then the
/// mean over groups of in·factor/out channels. x: [B, in, T, H, W] → [B, out, ⌈T/ft⌉, H/fs, W/fs].
torch::Tensor avg_down_3d(const torch::Tensor& x, int64_t out, int64_t factor_t, int64_t factor_s);
/// Parameter-free shortcut: channel repeat, then depth-to-space/time; on the first chunk the first
/// factor_t−1 frames are dropped. x: [B, in, T, h, w] → [B, out, T·ft (− ft+1), h·fs, w·fs].
torch::Tensor dup_up_3d(const torch::Tensor& x, int64_t out, int64_t factor_t, int64_t factor_s,
                        bool first_chunk);

/// Down_ResidualBlock: `downsamples` (ResidualBlocks + optional Resample) plus the AvgDown3D shortcut.
class DownResidualBlock : public VAELayer {
public:
    DownResidualBlock(int64_t in, int64_t out, int64_t mult, bool temporal, bool down);
    torch::Tensor forward(const torch::Tensor& x, FeatureCache& cache) override;

private:
    LayerList layers_;
    int64_t out_, factor_t_, factor_s_;
};

/// Up_ResidualBlock: `upsamples` (ResidualBlocks + optional Resample keeping C) plus DupUp3D when upsampling.
class UpResidualBlock : public VAELayer {
public:
    UpResidualBlock(int64_t in, int64_t out, int64_t mult, bool temporal, bool up);
    torch::Tensor forward(const torch::Tensor& x, FeatureCache& cache) override;

private:
    LayerList layers_;
    bool up_;
    int64_t out_, factor_t_;
};

/// The encoder's stage list for a Wan2.2 config (one DownResidualBlock per dim_mult entry).
std::vector<std::shared_ptr<VAELayer>> wan22_encoder_stages(const WanVAEConfig& c);
/// The decoder's stage list (one UpResidualBlock per dim_mult entry, widths from dec_dim).
std::vector<std::shared_ptr<VAELayer>> wan22_decoder_stages(const WanVAEConfig& c);

/// Wan2.2 config from a key → shape map and metadata (layout Wan22, patch 2, dec_dim from the decoder).
core::Result<WanVAEConfig> wan22_vae_config(const std::map<std::string, std::vector<int64_t>>& shapes,
                                            const std::map<std::string, std::string>& metadata,
                                            const std::string& prefix = "");
/// The same from an open checkpoint.
core::Result<WanVAEConfig> wan22_vae_config(const SafeTensorsFile& file, const std::string& prefix = "");

}  // namespace fl::inference::wan
