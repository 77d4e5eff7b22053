#pragma once
/// The pixel-space patch codec of the small default model: a lossless space-to-depth rearrangement
/// between RGB video in [−1, 1] and latent channels. No weights; documented in docs/architecture.md.

#include <torch/torch.h>

#include <vector>

#include "frameloom/core/frame.h"
#include "frameloom/core/result.h"

namespace fl::inference {

/// Space-to-depth by (ph, pw) (pt must be 1): pixel [c, f, y·ph+i, x·pw+j] ↔ latent [c·ph·pw + i·pw + j, f, y, x].
class PatchCodec {
public:
    PatchCodec(int64_t pt, int64_t ph, int64_t pw);
    static core::Result<PatchCodec> from_card(const std::vector<int>& patch);

    int64_t latent_channels() const { return 3 * ph_ * pw_; }
    int64_t ph() const { return ph_; }
    int64_t pw() const { return pw_; }

    /// video: [B, 3, F, H, W] in [−1, 1] → [B, 3·ph·pw, F, H/ph, W/pw]
    torch::Tensor encode(const torch::Tensor& video) const;
    /// latent: [B, 3·ph·pw, F, h, w] → [B, 3, F, h·ph, w·pw] (not clamped)
    torch::Tensor decode(const torch::Tensor& latent) const;

private:
    int64_t ph_ = 4;
    int64_t pw_ = 4;
};

/// [3, F, H, W] float in [−1, 1] (any device) → RGB8 frames (clamped, rounded).
core::Video tensor_to_video(const torch::Tensor& video, core::FrameRate fps);
/// RGB8 frames → [3, F, H, W] float32 in [−1, 1] on CPU.
torch::Tensor video_to_tensor(const core::Video& video);

}  // namespace fl::inference
