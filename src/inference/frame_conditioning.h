#pragma once
/// "frame-mask" conditioning (the shapes model; card field "conditioning"): how given frames and reference
/// images reach a DiT whose codec keeps one latent frame per video frame.
///
/// The DiT's input is [x_t, known, reference] on the channel axis: C latent channels, then two flags per
/// frame. Known frames (a first frame, a last frame, the first k frames of a clip being extended) enter clean
/// in place of x_t with known = 1; reference images enter as extra leading frames (one DiT temporal patch,
/// images repeated to fill it) with known = reference = 1 and are dropped from the output. Training computes
/// the loss on unknown frames only; sampling gives known frames the exact velocity of their straight path
/// (noise − clean) and writes them back clean at the end, like Wan2.2's first-frame replacement.

#include <torch/torch.h>

#include <cstdint>
#include <functional>

#include "frameloom/core/conditioning.h"
#include "frameloom/core/result.h"
#include "inference/codec.h"

namespace fl::inference {

/// Flag channels the DiT takes after the latent (known, reference).
inline constexpr int64_t kFrameMaskFlags = 2;
/// Position channels after the flags when the model card asks for them (time, row, column).
inline constexpr int64_t kFrameMaskPositions = 3;
/// Frames of the clip length the time channel spans from −1 to 1 (the shapes world's 16 frames); a longer
/// generation goes on past 1 at the same rate, so a frame's time value never depends on the clip's length.
inline constexpr double kPositionTimeSpan = 15.0;
/// The position channels' amplitude. At high noise the patch embedding's output is dominated by the 192
/// latent channels' noise (about 1.4 per feature in the trained model); three channels of ±1 would reach
/// the blocks as a whisper under it, so they run from −4 to 4.
inline constexpr double kPositionScale = 4.0;

struct FrameCondition {
    torch::Tensor clean;  ///< [B, C, F, h, w]: clean latent of the known frames, zeros elsewhere
    torch::Tensor known;  ///< [B, 1, F, 1, 1]: 1 for frames given (references included)
    torch::Tensor ref;    ///< [B, 1, F, 1, 1]: 1 for reference frames
    int64_t ref_frames = 0;      ///< leading reference frames (dropped from the output)
    int64_t source_frames = 0;   ///< leading frames copied from a clip being extended
    bool positions = false;      ///< append the position channels (model card "position_channels")
    bool any_known() const { return known.defined() && known.gt(0).any().item<bool>(); }
};

/// An RGB8 frame as [3, height, width] in [−1, 1], resized (area when shrinking, bilinear when growing).
torch::Tensor frame_to_tensor(const core::Frame& frame, int64_t height, int64_t width);

/// Hands the given frames of a generation of `frames` frames to `give(index, frame)`: the last k ≤
/// `extend_frames` frames of media.extend_source as frames 0…k−1 (k also leaves frame frames−1 free), then
/// media.first_frame as 0 and media.last_frame as frames−1. Returns k, the output frames copied from the
/// source.
int64_t place_given_frames(const core::ConditioningMedia& media, int64_t frames, int64_t extend_frames,
                           const std::function<void(int64_t, const core::Frame&)>& give);

/// The condition of one generation of `frames` frames (sampled as `padded_frames` ≥ frames, whole DiT
/// tokens; the extra frames are cut after decoding) at height × width from decoded media: references fill
/// `ref_group` leading frames; the last frame is frame frames−1; the extension source gives its last
/// `extend_frames` frames as frames 0…k−1. Errors (one line) for media the scheme cannot take (more
/// references than the group holds).
core::Result<FrameCondition> make_frame_condition(const core::ConditioningMedia& media, const VideoCodec& codec,
                                                  int64_t frames, int64_t padded_frames, int64_t height, int64_t width,
                                                  int64_t ref_group, int64_t extend_frames);

/// [x_t with known frames replaced by clean, known, reference] → [B, C + 2, F, h, w]; with
/// condition.positions also [time, row, column] → [B, C + 5, F, h, w], each times kPositionScale: a latent
/// pixel's row and column run from −1 to 1 across the frame (pixel centres), time is 2·i/kPositionTimeSpan −
/// 1 for output frame i (the frames after the reference group; reference frames have time 0 and are told
/// apart by their flag). A condition of batch 1 is shared by every sample of x_t (CFG pairs).
torch::Tensor frame_mask_input(const torch::Tensor& xt, const FrameCondition& condition);

/// The position channels alone: [3, F, h, w] for `frames` latent frames after `ref_frames` reference frames.
torch::Tensor position_channels(int64_t ref_frames, int64_t frames, int64_t height, int64_t width);

/// Known frames take `exact` (the velocity of their straight path), others keep `predicted`.
torch::Tensor keep_known(const torch::Tensor& predicted, const torch::Tensor& exact, const FrameCondition& condition);

}  // namespace fl::inference
