#pragma once
/// Correction of a chained extension, so extending a clip k times does not drift in colour.

#include "frameloom/core/frame.h"
#include "frameloom/core/result.h"

namespace fl::consistency {

/// What runs after each extension (the caller keeps a switch to skip it entirely).
struct ExtensionCorrection {
    /// Match the whole extension's L*a*b* statistics to the anchor (the first segment of the chain), so a
    /// cast that each extension adds on top of the last does not accumulate.
    bool match_anchor = true;
    /// Then match the extension's first frame to the previous segment's last frame, fading over this many
    /// frames (0 = skip), so the seam does not jump.
    int seam_ramp_frames = 8;
};

/// Corrects `extension`, which continues `previous`, towards `anchor` (the chain's first segment).
/// Limit: a shot whose content legitimately changes colour (a new subject, a lighting change) is pulled
/// back towards the anchor's statistics too; turn match_anchor off for such shots.
core::Result<core::Video> correct_extension(const core::Video& anchor, const core::Video& previous,
                                            const core::Video& extension,
                                            const ExtensionCorrection& options = {});

}  // namespace fl::consistency
