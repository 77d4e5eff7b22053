#pragma once
/// Contact sheets: a clip's frames laid out in a grid, the way editors look at a take at a glance.

#include "frameloom/core/frame.h"
#include "frameloom/core/result.h"

namespace fl::core {

/// How frames are laid out.
struct ContactSheetOptions {
    int columns = 8;  ///< frames per row
    int every = 1;    ///< take every n-th frame (1 = all)
    int scale = 1;    ///< whole-number enlargement (nearest neighbour), so small clips stay readable
    int gap = 2;      ///< pixels between frames (filled with mid grey)
};

/// The frames of `video` (0, every, 2·every, ...) left to right, top to bottom; an error for an empty
/// clip or options below 1 (gap below 0).
Result<Frame> contact_sheet(const Video& video, const ContactSheetOptions& options = {});

}  // namespace fl::core
