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
    int trend_half_window = 3;  ///< per-frame statistics follow a local linear fit over 2·h+1 frames
    double max_gain = 2.0;      ///< per-channel contrast gain is clamped to [1/max_gain, max_gain]
};

/// Gives every frame the per-channel L*a*b* mean and standard deviation of a smooth trend through
/// the clip's own statistics: a per-frame gain and offset, no spatial filtering, so motion is not smeared.
core::Result<core::Video> deflicker(const core::Video& video, const DeflickerOptions& options = {});

}  // namespace fl::consistency
