#pragma once
/// The shapes-world judge: reads a clip and names the object's colour, shape, motion and the background,
/// for `frameloom eval shapes`. Tested on rendered ground-truth clips.

#include <string>
#include <vector>

#include "frameloom/core/frame.h"
#include "frameloom/core/result.h"
#include "frameloom/core/shapes_world.h"

namespace fl::consistency {

/// What the judge saw in a clip.
struct ShapesJudgement {
    core::shapes::Colour colour = core::shapes::Colour::Red;
    core::shapes::Shape shape = core::shapes::Shape::Circle;
    core::shapes::Motion motion = core::shapes::Motion::Still;
    core::shapes::Background background = core::shapes::Background::Black;
    double colour_distance = 0.0;      ///< RGB distance of the object's median colour to the named colour
    double background_distance = 0.0;  ///< the same for the background
    double extent = 0.0;               ///< median object area / bounding-box area (1 square, π/4 circle, ½ triangle)
    double shape_iou = 0.0;            ///< median IoU of the object with the named shape's ideal mask
    double travel = 0.0;               ///< centroid displacement first → last, as a fraction of the frame
    double start_x = 0.0, start_y = 0.0, end_x = 0.0, end_y = 0.0;  ///< centroid (fractions of the frame)
    bool object_found = false;         ///< false when no frame holds a clear object

    /// Where the object is in one frame.
    struct Sighting {
        bool found = false;
        double x = 0.0, y = 0.0;  ///< centroid in pixels
    };
    std::vector<Sighting> track;       ///< one per frame
};

/// Judges a clip. Error only for an empty clip.
core::Result<ShapesJudgement> judge_shapes(const core::Video& video);

}  // namespace fl::consistency
