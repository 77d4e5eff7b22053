#pragma once
/// Temporal metrics of one clip: flicker, warping error, colour drift and a per-frame score curve.

#include <vector>

#include "frameloom/consistency/color.h"
#include "frameloom/core/frame.h"
#include "frameloom/core/result.h"

namespace fl::consistency {

/// Scales that turn flicker (ΔE76 per frame) and warping error (8-bit levels) into scores in (0, 1].
inline constexpr double kFlickerScale = 1.0;
inline constexpr double kWarpScale = 5.0;

/// How temporal metrics are computed.
struct TemporalOptions {
    int analysis_width = 256;   ///< frames wider than this are downscaled (area) before analysis
    int trend_half_window = 3;  ///< the smooth trend is a local linear fit over 2·h+1 frames
};

/// Temporal metrics of a clip; curves have one entry per frame (entry 0 compares nothing and is 0).
struct TemporalMetrics {
    /// Mean frame-to-frame change (ΔE76) of the per-frame mean L*a*b* after removing its local linear trend.
    double flicker = 0.0;
    /// Mean over consecutive pairs of the warping error: previous frame warped onto the next with
    /// Farneback flow, mean absolute RGB difference (8-bit levels) over non-occluded pixels, after
    /// removing the pair's mean colour change (global changes belong to flicker and drift).
    double warp_error = 0.0;
    double warp_error_max = 0.0;  ///< worst pair
    /// CIEDE2000 between the straight-line fit of the per-frame median colour (per channel) at the first
    /// and the last frame: a slow grade change. The median ignores a subject covering under half the frame.
    double drift = 0.0;
    std::vector<double> flicker_curve;  ///< per frame: change of the detrended mean colour (ΔE76)
    std::vector<double> warp_curve;     ///< per frame: warping error from the previous frame
    /// Per frame: 1 / (1 + flicker/kFlickerScale + warp/kWarpScale); 1 is perfectly steady.
    std::vector<double> score_curve;
    std::vector<Lab> mean_lab;  ///< per frame: mean L*a*b* colour
};

/// Measures flicker, warping error, drift and the score curve. Error on an empty or ragged video.
core::Result<TemporalMetrics> measure_temporal(const core::Video& video, const TemporalOptions& options = {});

}  // namespace fl::consistency
