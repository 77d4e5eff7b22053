#include "frameloom/consistency/extension.h"

#include "frameloom/consistency/correction.h"

namespace fl::consistency {

core::Result<core::Video> correct_extension(const core::Video& anchor, const core::Video& previous,
                                            const core::Video& extension,
                                            const ExtensionCorrection& options) {
    core::Video out = extension;
    if (options.match_anchor) {
        auto matched = color_match(out, anchor);
        if (!matched) return matched.error();
        out = std::move(*matched);
    }
    if (options.seam_ramp_frames > 0) {
        ColorMatchOptions seam;
        seam.ramp_frames = options.seam_ramp_frames;
        seam.source_frames = 1;
        seam.reference_frames = 1;
        auto matched = color_match(out, previous, seam);
        if (!matched) return matched.error();
        out = std::move(*matched);
    }
    return out;
}

}  // namespace fl::consistency
