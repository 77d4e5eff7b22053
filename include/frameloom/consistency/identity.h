#pragma once
/// Identity: how much each frame of a clip still shows the subject of a shot's reference images.

#include <string>
#include <vector>

#include "frameloom/core/frame.h"
#include "frameloom/core/result.h"

namespace fl::consistency {

/// Where Debian's opencv-data puts the frontal-face Haar cascade.
inline constexpr const char* kDefaultFaceCascade =
    "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml";

/// How identity is measured. Weights are renormalised over the terms available for a frame.
struct IdentityOptions {
    int analysis_width = 256;       ///< images wider than this are downscaled (area) first
    double colour_weight = 0.6;     ///< foreground colour histogram similarity
    double keypoint_weight = 0.25;  ///< ORB keypoint matches (only when both images have >= 10 keypoints)
    double face_weight = 0.15;  ///< Haar face presence and face colour (only when a reference shows a face)
    /// Express chroma relative to the backdrop (border colour), so a global colour cast is not an identity
    /// change.
    bool relative_to_backdrop = true;
    std::string face_cascade = kDefaultFaceCascade;  ///< empty or missing file: the face term is skipped
};

/// Identity of a clip against references; per-frame values are the best match over all references.
struct IdentityScore {
    std::vector<double> per_frame;  ///< combined similarity in [0, 1]
    double clip = 0.0;              ///< mean of per_frame
    double min = 0.0;               ///< worst frame
    double colour = 0.0;            ///< mean colour-histogram term
    double keypoints = -1.0;        ///< mean keypoint term over frames where it applied; -1 when never
    double faces = -1.0;            ///< mean face term over frames where it applied; -1 when never
    int reference_faces = 0;        ///< references in which a face was found
    bool face_detector = false;     ///< the Haar cascade loaded
};

/// Similarity of every frame to the references. Error when there are no frames or no references.
core::Result<IdentityScore> measure_identity(const core::Video& video,
                                             const std::vector<core::Frame>& references,
                                             const IdentityOptions& options = {});

}  // namespace fl::consistency
