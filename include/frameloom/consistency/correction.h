#pragma once
/// Corrections: colour matching (Reinhard statistics transfer in L*a*b*) and deflicker.

#include "frameloom/core/frame.h"
#include "frameloom/core/result.h"

namespace fl::consistency {

/// How a clip is matched to a reference.
struct ColorMatchOptions {
    /// 0: every frame gets the full correction (per shot). N > 0: the correction fades from full at
    /// frame 0 to none at frame N, so a seam is matched and the clip returns to its own look.
    int ramp_frames = 0;
    int source_frames = 0;     ///< statistics of the clip's first N frames (0 = all frames)
    int reference_frames = 0;  ///< statistics of the reference clip's last N frames (0 = all frames)
    double strength = 1.0;     ///< 0..1 blend of the full correction
    /// Match every frame's own statistics (undoes a drift within the clip; source_frames is ignored).
    bool per_frame = false;
};

/// Transfers the reference's per-channel L*a*b* mean and standard deviation onto the clip.
core::Result<core::Video> color_match(const core::Video& video, const core::Video& reference,
                                      const ColorMatchOptions& options = {});

/// The same with a still reference image.
core::Result<core::Video> color_match(const core::Video& video, const core::Frame& reference,
                                      const ColorMatchOptions& options = {});

/// How deflicker smooths.
struct DeflickerOptions {
    int trend_half_window = 3;  ///< the exposure follows a local linear fit over 2·h+1 frames
    /// true: the per-frame exposure change is measured on corresponding pixels (previous frame warped along
    /// Farneback flow, occlusions excluded), so moving or changing content is not mistaken for flicker, and
    /// each frame gets a per-channel L*a*b* offset. false: whole-frame per-channel mean and standard
    /// deviation follow their trend (gain and offset), cheaper but fooled by content changes.
    bool flow_guided = true;
    int analysis_width = 256;  ///< flow is computed on frames at most this wide
    double max_gain = 2.0;     ///< statistics mode: contrast gain clamped to [1/max_gain, max_gain]
};

/// Removes frame-to-frame exposure and colour fluctuations around a smooth trend with one correction per
/// frame and channel: no spatial or temporal pixel filtering, so motion is never smeared.
core::Result<core::Video> deflicker(const core::Video& video, const DeflickerOptions& options = {});

}  // namespace fl::consistency
