// Each correction against its planted defect, by a stated factor (measured values in docs/consistency.md).
#include "frameloom/consistency/correction.h"

#include <gtest/gtest.h>

#include <cstdio>

#include "frameloom/consistency/continuity.h"
#include "frameloom/consistency/identity.h"
#include "frameloom/consistency/ranking.h"
#include "frameloom/consistency/temporal.h"
#include "unit/consistency/synthetic.h"

namespace fl::consistency {
namespace {

using namespace testing;

/// Largest frame-to-frame change of the mean colour (ΔE76) over a clip.
double largest_step(const core::Video& v) {
    auto m = measure_temporal(v);
    EXPECT_TRUE(m.ok());
    double worst = 0;
    for (size_t t = 1; t < m->mean_lab.size(); ++t)
        worst = std::max(worst, delta_e_76(m->mean_lab[t - 1], m->mean_lab[t]));
    return worst;
}

core::Video concat(const core::Video& a, const core::Video& b) {
    core::Video out = a;
    out.frames.insert(out.frames.end(), b.frames.begin(), b.frames.end());
    return out;
}

/// Mean absolute difference of two clips in 8-bit levels.
double mean_change(const core::Video& a, const core::Video& b) {
    double diff = 0;
    for (size_t t = 0; t < a.frames.size(); ++t)
        for (size_t i = 0; i < a.frames[t].rgb.size(); ++i)
            diff += std::abs(a.frames[t].rgb[i] - b.frames[t].rgb[i]);
    return diff / static_cast<double>(a.frames.size() * a.frames[0].rgb.size());
}

TEST(Deflicker, ReducesFlickerThreefoldWithoutSmearingMotion) {
    const core::Video flickering = with_flicker(clean_clip());
    for (const bool flow : {true, false}) {
        DeflickerOptions options;
        options.flow_guided = flow;
        auto fixed = deflicker(flickering, options);
        ASSERT_TRUE(fixed.ok());
        const auto before = *measure_temporal(flickering);
        const auto after = *measure_temporal(*fixed);
        std::printf("deflicker (%s): flicker %.3f -> %.3f (%.1fx), warp_error %.3f -> %.3f\n",
                    flow ? "flow-guided" : "statistics", before.flicker, after.flicker,
                    before.flicker / after.flicker, before.warp_error, after.warp_error);
        EXPECT_GE(before.flicker / after.flicker, 3.0);
        EXPECT_LT(after.warp_error, 1.0);  // no smearing: warped frames still agree
        ASSERT_EQ(fixed->frames.size(), flickering.frames.size());
        EXPECT_EQ(fixed->fps, flickering.fps);
    }
}

TEST(Deflicker, FlowGuidedLeavesAContentChangeAlone) {
    // The swapped object changes the frame mean at frame 12; that is content, not exposure.
    const core::Video swapped = clean_clip(12);
    DeflickerOptions flow, statistics;
    statistics.flow_guided = false;
    const double by_flow = mean_change(swapped, *deflicker(swapped, flow));
    const double by_statistics = mean_change(swapped, *deflicker(swapped, statistics));
    std::printf("deflicker on a content change: %.3f levels (flow-guided), %.3f (statistics)\n", by_flow,
                by_statistics);
    EXPECT_LT(by_flow, 0.35);
    EXPECT_LT(by_flow, by_statistics);
}

TEST(Deflicker, LeavesACleanClipAlmostAlone) {
    const core::Video clean = clean_clip();
    auto fixed = deflicker(clean);
    ASSERT_TRUE(fixed.ok());
    EXPECT_LT(mean_change(clean, *fixed), 1.5);  // mean absolute change in 8-bit levels
}

TEST(ColorMatch, SeamDeltaEDropsThreefoldAndNothingJumps) {
    const core::Video clean = clean_clip();
    const core::Video a = slice(clean, 0, 12), b = with_jump(slice(clean, 12, 24));
    ColorMatchOptions options;
    options.source_frames = 1;
    options.reference_frames = 1;
    options.ramp_frames = 8;
    auto fixed = color_match(b, a, options);
    ASSERT_TRUE(fixed.ok());
    const double before = measure_seam(a, b)->delta_e, after = measure_seam(a, *fixed)->delta_e;
    const double step_before = largest_step(concat(a, b)), step_after = largest_step(concat(a, *fixed));
    std::printf("colour match at seam: delta_e %.3f -> %.3f (%.1fx); largest step %.3f -> %.3f\n", before,
                after, before / after, step_before, step_after);
    EXPECT_GE(before / after, 3.0);
    EXPECT_LE(step_after, step_before / 3.0);  // the ramp spreads the return to b's own look
    // Past the ramp the clip is untouched.
    EXPECT_EQ(fixed->frames[10].rgb, b.frames[10].rgb);
}

TEST(ColorMatch, PerFrameMatchUndoesDriftThreefold) {
    const core::Video drifting = with_colour_ramp(clean_clip());
    ColorMatchOptions options;
    options.per_frame = true;
    auto fixed = color_match(drifting, clean_clip().frames[0], options);
    ASSERT_TRUE(fixed.ok());
    const double before = measure_temporal(drifting)->drift, after = measure_temporal(*fixed)->drift;
    std::printf("per-frame colour match: drift %.3f -> %.3f (%.1fx)\n", before, after, before / after);
    EXPECT_GE(before / after, 3.0);
}

TEST(ColorMatch, RejectsEmptyInput) {
    EXPECT_FALSE(color_match(core::Video{}, clean_clip().frames[0]).ok());
    EXPECT_FALSE(color_match(clean_clip(-1, 2), core::Video{}).ok());
    EXPECT_FALSE(color_match(clean_clip(-1, 2), core::Frame{}).ok());
    EXPECT_FALSE(deflicker(core::Video{}).ok());
}

TEST(Ranking, IdentityAndTemporalCombineWithStatedWeights) {
    // a: faithful and steady; b: faithful but flickers; c: steady but the wrong subject.
    const std::vector<TakeScores> takes = {
        {"c", 0.2, 0.0, 0.0}, {"b", 0.95, 3.0, 0.5}, {"a", 0.95, 0.1, 0.5}};
    const auto ranked = rank_takes(takes);
    ASSERT_EQ(ranked.size(), 3u);
    EXPECT_EQ(ranked[0].take_id, "a");
    EXPECT_EQ(ranked[1].take_id, "b");
    EXPECT_EQ(ranked[2].take_id, "c");
    EXPECT_EQ(ranked[0].rank, 1);
    // score = 0.6·identity + 0.4 / (1 + flicker/1 + warp/5)
    EXPECT_NEAR(ranked[0].score, 0.6 * 0.95 + 0.4 / (1 + 0.1 + 0.1), 1e-12);
    EXPECT_NEAR(ranked[2].score, 0.6 * 0.2 + 0.4, 1e-12);
}

TEST(Ranking, WithoutReferencesTemporalDecidesAndMissingIdentityCountsZero) {
    const auto temporal_only = rank_takes({{"x", std::nullopt, 2.0, 1.0}, {"y", std::nullopt, 0.2, 1.0}});
    EXPECT_EQ(temporal_only[0].take_id, "y");
    EXPECT_NEAR(temporal_only[0].score, 1.0 / (1 + 0.2 + 0.2), 1e-12);
    const auto mixed = rank_takes({{"unmeasured", std::nullopt, 0.0, 0.0}, {"measured", 0.9, 0.0, 0.0}});
    EXPECT_EQ(mixed[0].take_id, "measured");
    EXPECT_TRUE(rank_takes({}).empty());
}

TEST(Ranking, MeasuredTakesRankTheFaithfulSteadyOneFirst) {
    const core::Video clean = clean_clip();
    const std::vector<core::Frame> refs{clean.frames[0]};
    std::vector<TakeScores> takes;
    for (const auto& [id, clip] : std::vector<std::pair<std::string, core::Video>>{
             {"swapped", clean_clip(6)}, {"flickering", with_flicker(clean)}, {"good", clean}}) {
        const auto t = *measure_temporal(clip);
        takes.push_back({id, measure_identity(clip, refs)->clip, t.flicker, t.warp_error});
    }
    const auto ranked = rank_takes(takes);
    EXPECT_EQ(ranked[0].take_id, "good");
    EXPECT_EQ(ranked[1].take_id, "flickering");
    EXPECT_EQ(ranked[2].take_id, "swapped");
}

}  // namespace
}  // namespace fl::consistency
