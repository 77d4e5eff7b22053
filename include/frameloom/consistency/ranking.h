#pragma once
/// Best-of-N: one ranking of a shot's takes from identity and temporal scores.

#include <optional>
#include <string>
#include <vector>

#include "frameloom/consistency/continuity.h"

namespace fl::consistency {

/// The measured scores of one take.
struct TakeScores {
    std::string take_id;
    std::optional<double> identity;  ///< clip identity in [0, 1], when the shot has references
    double flicker = 0.0;            ///< TemporalMetrics::flicker
    double warp_error = 0.0;         ///< TemporalMetrics::warp_error
    /// The join of a take made by extension with its source kept (not part of the ranking: every
    /// take of a shot extends the same source, so it tells takes apart only by the seam they made).
    std::optional<SeamMetrics> extension_seam = std::nullopt;
};

/// Weights of the ranking: score = identity_weight·identity + temporal_weight·temporal, where
/// temporal = 1 / (1 + flicker/flicker_scale + warp_error/warp_scale); without identity, score = temporal.
struct RankingWeights {
    double identity_weight = 0.6;
    double temporal_weight = 0.4;
    double flicker_scale = 1.0;  ///< kFlickerScale
    double warp_scale = 5.0;     ///< kWarpScale
};

/// One take's place in the ranking.
struct RankedTake {
    std::string take_id;
    double score = 0.0;     ///< in [0, 1], higher is better
    double temporal = 0.0;  ///< the temporal part alone
    int rank = 0;           ///< 1 = best
};

/// Temporal quality in (0, 1] of a take.
double temporal_quality(const TakeScores& take, const RankingWeights& weights = {});

/// Ranks takes best first (ties keep the input order). When some takes have identity and others do not,
/// the missing ones count as identity 0, so a take is never favoured for lacking a measurement.
std::vector<RankedTake> rank_takes(const std::vector<TakeScores>& takes, const RankingWeights& weights = {});

}  // namespace fl::consistency
