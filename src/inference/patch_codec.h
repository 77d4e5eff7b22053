#pragma once
/// The pixel-space patch codec of the small default model: a lossless space-to-depth rearrangement
/// between RGB video in [−1, 1] and latent channels. No weights; documented in docs/architecture.md.

#include <torch/torch.h>

#include <vector>

#include "frameloom/core/frame.h"
#include "frameloom/core/result.h"
#include "inference/codec.h"

namespace fl::inference {

/// Space-to-depth by (ph, pw) (pt must be 1): pixel [c, f, y·ph+i, x·pw+j] ↔ latent [c·ph·pw + i·pw + j, f, y, x].
class PatchCodec final : public VideoCodec {
public:
    PatchCodec(int64_t pt, int64_t ph, int64_t pw);
    static core::Result<PatchCodec> from_card(const std::vector<int>& patch);

    std::string name() const override { return "patch"; }
    int64_t latent_channels() const override { return 3 * ph_ * pw_; }
    int64_t ph() const { return ph_; }
    int64_t pw() const { return pw_; }
    std::array<int64_t, 3> stride() const override { return {1, ph_, pw_}; }
    int64_t latent_frames(int64_t frames) const override { return frames; }
    int64_t video_frames(int64_t latent_frames) const override { return latent_frames; }
    /// Any frame count; height and width multiples of ph and pw.
    core::Result<void> check_video(int64_t frames, int64_t height, int64_t width) const override;

    /// video: [B, 3, F, H, W] in [−1, 1] → [B, 3·ph·pw, F, H/ph, W/pw]
    torch::Tensor encode(const torch::Tensor& video) const override;
    /// latent: [B, 3·ph·pw, F, h, w] → [B, 3, F, h·ph, w·pw] (not clamped)
    torch::Tensor decode(const torch::Tensor& latent) const override;

private:
    int64_t ph_ = 4;
    int64_t pw_ = 4;
};

/// [3, F, H, W] float in [−1, 1] (any device) → RGB8 frames (clamped, rounded).
core::Video tensor_to_video(const torch::Tensor& video, core::FrameRate fps);
/// RGB8 frames → [3, F, H, W] float32 in [−1, 1] on CPU.
torch::Tensor video_to_tensor(const core::Video& video);

}  // namespace fl::inference
