// Chained extension on a synthetic clip: each extension adds a cast on top of what it continues.
#include "frameloom/consistency/extension.h"

#include <gtest/gtest.h>

#include <cstdio>

#include "frameloom/consistency/continuity.h"
#include "frameloom/consistency/identity.h"
#include "unit/consistency/synthetic.h"

namespace fl::consistency {
namespace {

using namespace testing;

constexpr int kExtensions = 5;
constexpr double kCastR = 6.0, kCastB = -4.0;  // added by every extension, relative to its input

/// The k-th segment as the "model" returns it: the base motion plus `steps` casts.
core::Video raw_segment(const core::Video& base, int steps) {
    core::Video v = base;
    for (auto& f : v.frames) add(f, kCastR * steps, 0, kCastB * steps);
    return v;
}

struct ChainResult {
    double drift = 0;      ///< ΔE00 (grid) between the anchor's last frame and the last segment's first
    double last_seam = 0;  ///< ΔE00 at the last seam
    double identity = 0;   ///< identity of the last segment against the anchor's first frame
};

ChainResult run_chain(bool correct) {
    const core::Video clean = clean_clip(-1, 16);
    const core::Video anchor = slice(clean, 0, 8), base = slice(clean, 8, 16);
    core::Video previous = anchor, last;
    ChainResult r;
    for (int k = 1; k <= kExtensions; ++k) {
        // Uncorrected, the model's input already carries k-1 casts; corrected, it carries none.
        core::Video segment = raw_segment(base, correct ? 1 : k);
        if (correct) segment = *correct_extension(anchor, previous, segment);
        if (k == kExtensions) r.last_seam = measure_seam(previous, segment)->delta_e;
        previous = segment;
    }
    const core::Video reference_start = slice(clean, 8, 9);  // where every segment starts, clean
    r.drift = measure_seam(reference_start, previous)->delta_e;
    r.identity = measure_identity(previous, {anchor.frames[0]})->clip;
    return r;
}

TEST(Extension, CorrectionKeepsAFiveFoldChainFromDrifting) {
    const ChainResult off = run_chain(false), on = run_chain(true);
    std::printf(
        "5 extensions: drift of the last segment %.2f -> %.2f ΔE00, last seam %.2f -> %.2f, identity %.3f -> "
        "%.3f\n",
        off.drift, on.drift, off.last_seam, on.last_seam, off.identity, on.identity);
    EXPECT_GT(off.drift, 10.0);
    EXPECT_LT(on.drift, 2.0);
    EXPECT_GE(off.drift / on.drift, 5.0);
    EXPECT_LE(on.last_seam, off.last_seam);
    EXPECT_GE(on.identity, 0.9);
}

TEST(Extension, OptionsTurnEachStepOff) {
    const core::Video clean = clean_clip(-1, 16);
    const core::Video anchor = slice(clean, 0, 8), segment = raw_segment(slice(clean, 8, 16), 1);
    ExtensionCorrection none;
    none.match_anchor = false;
    none.seam_ramp_frames = 0;
    auto untouched = correct_extension(anchor, anchor, segment, none);
    ASSERT_TRUE(untouched.ok());
    for (size_t t = 0; t < segment.frames.size(); ++t)
        EXPECT_EQ(untouched->frames[t].rgb, segment.frames[t].rgb);
    EXPECT_FALSE(correct_extension(core::Video{}, anchor, segment).ok());
}

}  // namespace
}  // namespace fl::consistency
