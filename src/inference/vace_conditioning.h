#pragma once
/// VACE's conditioning (Wan2.1 VACE-1.3B/14B; the reference's vace_encode_frames / vace_encode_masks): every
/// given frame and reference image reaches the DiT as a 96-channel context beside the noise — the VAE latents
/// of the source frames outside the mask ("inactive", 16) and inside it ("reactive", 16), and the pixel mask
/// folded to the latent grid (8 × 8 pixels → 64 channels). Frameloom's conditioning maps onto it:
///   --first-frame / --last-frame: frame 0 / F−1 given (mask 0 there, 1 elsewhere)
///   --extend CLIP: the clip's last frames as frames 0…k−1 (mask 0)
///   --reference IMG: each image (fitted on a white canvas) as a leading latent frame, masks zero
///   --video CLIP [--mask M]: the clip's frames as the source, the mask as given (white 1 = generate,
///     split at 0.5 for the latents); without a mask all ones (the clip is a control signal)
/// Without any of them (text-to-video) the source is all zeros and the mask all ones, as in the reference.

#include <torch/torch.h>

#include <cstdint>

#include "frameloom/core/conditioning.h"
#include "frameloom/core/result.h"
#include "inference/codec.h"

namespace fl::inference {

struct VaceCondition {
    torch::Tensor context;      ///< [1, 2·z + 64, refs + T, h, w]
    int64_t ref_frames = 0;     ///< leading latent frames that hold reference images (cut before decoding)
    int64_t source_frames = 0;  ///< leading output frames copied from a clip being extended
};

/// The pixel mask [F, H, W] (1 = generate) → [64, T, H/8, W/8]: each 8 × 8 cell's pixels become channels,
/// and the F frames are resampled to T latent frames by nearest-exact indexing, as the reference does.
torch::Tensor vace_mask_latent(const torch::Tensor& mask, int64_t latent_frames);

/// Builds the context for a generation of `frames` frames at height × width from decoded media; the last
/// `extend_frames` frames of media.extend_source are the given start of an extension.
core::Result<VaceCondition> make_vace_condition(const core::ConditioningMedia& media, const VideoCodec& codec,
                                                int64_t frames, int64_t height, int64_t width,
                                                int64_t extend_frames);

}  // namespace fl::inference
