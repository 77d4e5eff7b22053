#pragma once
/// Per-take consistency scores for the studio (issue 6): temporal metrics, identity against the shot's
/// references, and best-of-N over a shot's takes. Runs on the job worker, never on the GUI thread.

#include <map>
#include <string>
#include <vector>

#include "frameloom/consistency/ranking.h"
#include "frameloom/core/frame.h"
#include "frameloom/core/result.h"
#include "frameloom/core/shot.h"

namespace fl::studio {

/// Measures a generated clip: flicker and warp error always, identity when `references` is not empty,
/// and the join at frame `seam_at` when it is inside the clip (a take that extends a kept source).
/// take_id is left empty (the take has no id until the project adopts it).
core::Result<consistency::TakeScores> measure_take(const core::Video& video,
                                                   const std::vector<core::Frame>& references,
                                                   int64_t seam_at = 0);

/// The best take of a shot by consistency::rank_takes over the takes that have scores; "" when fewer
/// than two of its takes are scored (there is nothing to choose between).
std::string best_take(const core::Shot& shot, const std::map<std::string, consistency::TakeScores>& scores);

/// One line for a take's card, e.g. "flicker 0.12 · warp 1.3 · identity 0.84 · seam ΔE 1.1".
std::string describe_scores(const consistency::TakeScores& scores);

}  // namespace fl::studio
