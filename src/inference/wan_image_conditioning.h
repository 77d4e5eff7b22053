#pragma once
/// Wan's own image conditioning (reference/wan.md §5.6), for checkpoints whose card has no "conditioning":
/// Wan2.1 I2V-14B and FLF2V-14B (and Wan2.2's i2v A14B, which takes y without CLIP tokens). The DiT takes
/// y = [mask (4 channels), VAE latent of the given frames with zeros between] after the noise channels, and
/// the CLIP tokens of the given frames through `img_emb`.

#include <torch/torch.h>

#include <cstdint>

#include "frameloom/core/conditioning.h"
#include "frameloom/core/result.h"
#include "inference/arch/wan/clip.h"
#include "inference/codec.h"

namespace fl::inference {

struct WanImageCondition {
    torch::Tensor y;         ///< [1, 4 + z, T, h, w]: mask, then the latent of [first, zeros…, last?]
    torch::Tensor clip_fea;  ///< [1, tokens, clip_dim] (i2v) or [1, 2·tokens, clip_dim] (flf2v); undefined
                             ///< without a CLIP tower
};

/// The reference's mask [4, T, lat_h, lat_w] for `frames` = 4n+1 pixel frames: 1 on the kept pixel frames (0,
/// and frames−1 when `last`), frame 0 repeated four times, regrouped four pixel frames per latent frame.
/// I2V: latent frame 0 is all ones, the rest zero; FLF2V at 81 frames: frame 20 is [0, 0, 0, 1].
torch::Tensor wan_image_mask(int64_t frames, int64_t lat_h, int64_t lat_w, bool last);

/// An RGB8 frame as [3, H, W] in [−1, 1], resized bicubically (align_corners false, no antialias) to
/// height × width as the reference does for the VAE; at its own size when height/width are 0.
torch::Tensor wan_image_tensor(const core::Frame& frame, int64_t height = 0, int64_t width = 0);

/// `image` [3, h, w] scaled (bicubic) to cover height × width and centre-cropped to it.
torch::Tensor wan_cover_crop(const torch::Tensor& image, int64_t height, int64_t width);

/// Wan2.2 TI2V's image condition: the frame covered and cropped to height × width, encoded alone →
/// [1, z, 1, h, w]. Sampling holds latent frame 0 at it and gives its tokens timestep 0 (reference/wan.md
/// §5.6).
torch::Tensor wan22_first_frame_latent(const core::Frame& frame, const VideoCodec& codec, int64_t height,
                                       int64_t width);

/// The condition of a `frames` × height × width generation from media.first_frame (required) and
/// media.last_frame (flf2v). `clip` may be null (Wan2.2 i2v: no CLIP tokens). The last frame is scaled to
/// cover the first frame's size and centre-cropped before CLIP, as the reference does.
core::Result<WanImageCondition> make_wan_image_condition(const core::ConditioningMedia& media,
                                                         const VideoCodec& codec, wan::CLIPVisionImpl* clip,
                                                         int64_t frames, int64_t height, int64_t width);

}  // namespace fl::inference
