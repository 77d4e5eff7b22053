#pragma once
/// Continuity across a cut or an extension seam: colour shift, brightness jump, motion continuity.

#include <functional>
#include <string>
#include <vector>

#include "frameloom/core/frame.h"
#include "frameloom/core/project.h"
#include "frameloom/core/result.h"

namespace fl::consistency {

/// How a seam is measured.
struct SeamOptions {
    int grid = 4;              ///< the frames are compared cell by cell on a grid × grid layout
    int analysis_width = 256;  ///< frames wider than this are downscaled (area) first
};

/// What changes between the last frame before a seam and the first frame after it.
struct SeamMetrics {
    double delta_e = 0.0;           ///< mean over grid cells of CIEDE2000 between the cells' mean L*a*b*
    double delta_e_max = 0.0;       ///< worst cell
    double brightness_jump = 0.0;   ///< mean L* after minus mean L* before (signed, L* units)
    double speed_before = 0.0;      ///< mean flow of moving pixels over the last two frames before (px/frame)
    double speed_after = 0.0;       ///< the same over the first two frames after
    double motion_jump = 0.0;       ///< length of the difference of the two mean flow vectors (px/frame)
    double direction_change = 0.0;  ///< angle between them in degrees (0 when either is nearly still)
};

/// Measures the seam between the end of `before` and the start of `after` (sizes may differ: `after`
/// is resized to `before`). Motion terms need two frames on a side and are 0 otherwise.
core::Result<SeamMetrics> measure_seam(const core::Video& before, const core::Video& after,
                                       const SeamOptions& options = {});

/// The join inside one clip at frame `at` (an extension's first new frame), measured like a cut between
/// frames [0, at) and [at, end); an error unless 0 < at < the clip's frame count.
core::Result<SeamMetrics> measure_join(const core::Video& video, int64_t at, const SeamOptions& options = {});

/// One cut of a timeline: two consecutive clips of a video track and the seam between them.
struct CutMetrics {
    std::string track_id;
    std::string from_clip;  ///< the clip before the cut
    std::string to_clip;    ///< the clip after it
    int64_t position = 0;   ///< sequence frame where `to_clip` starts
    SeamMetrics seam;
};

/// The frames a clip shows (frames [in, out) of its media); supplied by the caller, who owns decoding.
using ClipFramesFn = std::function<core::Result<core::Video>(const core::Clip&)>;

/// Measures every cut between consecutive clips on each video track of `project`, in track order. The first
/// error (a clip whose media cannot be read) stops the walk and names the cut.
core::Result<std::vector<CutMetrics>> measure_cuts(const core::Project& project,
                                                   const ClipFramesFn& frames_of,
                                                   const SeamOptions& options = {});

}  // namespace fl::consistency
