#include "frameloom/consistency/ranking.h"

#include <algorithm>

namespace fl::consistency {

double temporal_quality(const TakeScores& take, const RankingWeights& weights) {
    const double f = std::max(0.0, take.flicker) / std::max(1e-9, weights.flicker_scale);
    const double w = std::max(0.0, take.warp_error) / std::max(1e-9, weights.warp_scale);
    return 1.0 / (1.0 + f + w);
}

std::vector<RankedTake> rank_takes(const std::vector<TakeScores>& takes, const RankingWeights& weights) {
    const bool any_identity =
        std::any_of(takes.begin(), takes.end(), [](const TakeScores& t) { return t.identity.has_value(); });
    const double total = weights.identity_weight + weights.temporal_weight;
    std::vector<RankedTake> ranked;
    for (const auto& t : takes) {
        RankedTake r;
        r.take_id = t.take_id;
        r.temporal = temporal_quality(t, weights);
        if (any_identity && total > 0) {
            const double id = std::clamp(t.identity.value_or(0.0), 0.0, 1.0);
            r.score = (weights.identity_weight * id + weights.temporal_weight * r.temporal) / total;
        } else {
            r.score = r.temporal;
        }
        ranked.push_back(r);
    }
    std::stable_sort(ranked.begin(), ranked.end(),
                     [](const RankedTake& a, const RankedTake& b) { return a.score > b.score; });
    for (size_t i = 0; i < ranked.size(); ++i) ranked[i].rank = static_cast<int>(i) + 1;
    return ranked;
}

}  // namespace fl::consistency
