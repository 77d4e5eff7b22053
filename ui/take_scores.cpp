#include "ui/take_scores.h"

#include <cstdio>

#include "frameloom/consistency/continuity.h"
#include "frameloom/consistency/identity.h"
#include "frameloom/consistency/temporal.h"

namespace fl::studio {

core::Result<consistency::TakeScores> measure_take(const core::Video& video,
                                                   const std::vector<core::Frame>& references,
                                                   int64_t seam_at) {
    auto temporal = consistency::measure_temporal(video);
    if (!temporal) return core::fail("cannot measure the take: " + temporal.message());
    consistency::TakeScores scores;
    scores.flicker = temporal->flicker;
    scores.warp_error = temporal->warp_error;
    if (!references.empty()) {
        auto identity = consistency::measure_identity(video, references);
        if (!identity) return core::fail("cannot measure identity: " + identity.message());
        scores.identity = identity->clip;
    }
    if (seam_at > 0 && seam_at < video.frame_count()) {
        auto seam = consistency::measure_join(video, seam_at);
        if (!seam) return core::fail("cannot measure the extension seam: " + seam.message());
        scores.extension_seam = *seam;
    }
    return scores;
}

std::string best_take(const core::Shot& shot, const std::map<std::string, consistency::TakeScores>& scores) {
    std::vector<consistency::TakeScores> scored;
    for (const core::Take& take : shot.takes) {
        auto it = scores.find(take.id);
        if (it == scores.end()) continue;
        consistency::TakeScores s = it->second;
        s.take_id = take.id;
        scored.push_back(std::move(s));
    }
    if (scored.size() < 2) return {};
    const auto ranked = consistency::rank_takes(scored);
    return ranked.empty() ? std::string() : ranked.front().take_id;
}

std::string describe_scores(const consistency::TakeScores& scores) {
    char text[128];
    std::snprintf(text, sizeof text, "flicker %.2f · warp %.2f", scores.flicker, scores.warp_error);
    std::string out = text;
    if (scores.identity) {
        std::snprintf(text, sizeof text, " · identity %.2f", *scores.identity);
        out += text;
    }
    if (scores.extension_seam) {
        std::snprintf(text, sizeof text, " · seam ΔE %.1f", scores.extension_seam->delta_e);
        out += text;
    }
    return out;
}

}  // namespace fl::studio
