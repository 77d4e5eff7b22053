#pragma once
/// The pixels a generation is conditioned on, decoded from the files a Conditioning names. Media decodes
/// them (media::load_conditioning); the inference pipeline reads them; neither knows the other.

#include <optional>
#include <vector>

#include "frameloom/core/frame.h"

namespace fl::core {

struct ConditioningMedia {
    std::optional<Frame> first_frame;  ///< frame 0 of the output (image-to-video)
    std::optional<Frame> last_frame;   ///< the output's last frame (keyframes)
    Video extend_source;               ///< clip to continue (no frames = none)
    bool keep_source = false;          ///< output = source + continuation instead of the continuation alone
    int64_t extend_frames = 0;         ///< new frames to make (0 = one pass of the model; Conditioning)
    std::vector<Frame> references;     ///< reference images of the subject
    Video video;  ///< frames the shot is made over (in-painting / control; none = unused)
    /// With `video`: one frame (every frame) or one per frame; white = generate, black = keep. None: all
    /// of `video` guides the result.
    std::vector<Frame> mask;

    bool empty() const {
        return !first_frame && !last_frame && extend_source.frames.empty() && references.empty() &&
               video.frames.empty();
    }
};

}  // namespace fl::core
