// Each metric on synthetic clips with one planted defect each: it detects its own defect and not the others.
//   thresholds: flicker > 1.0 detects (< 0.6 otherwise); warp_error > 3 (< 1.0); drift > 8 ΔE00 (< 3);
//   identity clip < 0.7 and per-frame < 0.2 after a swap (>= 0.9 otherwise); seam ΔE00 > 8 (< 1.5).
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "frameloom/consistency/color.h"
#include "frameloom/consistency/continuity.h"
#include "frameloom/consistency/identity.h"
#include "frameloom/consistency/temporal.h"
#include "unit/consistency/synthetic.h"

namespace fl::consistency {
namespace {

using namespace testing;

struct Measured {
    TemporalMetrics temporal;
    IdentityScore identity;
};

Measured measure(const core::Video& clip) {
    const std::vector<core::Frame> reference{clean_clip().frames[0]};
    auto t = measure_temporal(clip);
    auto i = measure_identity(clip, reference);
    EXPECT_TRUE(t.ok() && i.ok());
    return {*t, *i};
}

TEST(ColorDifference, MatchesSharmaReferencePairs) {
    // Pairs 1, 7 and 17 of Sharma, Wu and Dalal's CIEDE2000 test data.
    EXPECT_NEAR(delta_e_2000({50.0, 2.6772, -79.7751}, {50.0, 0.0, -82.7485}), 2.0425, 1e-4);
    EXPECT_NEAR(delta_e_2000({50.0, 0.0, 0.0}, {50.0, -1.0, 2.0}), 2.3669, 1e-4);
    EXPECT_NEAR(delta_e_2000({50.0, 2.5, 0.0}, {73.0, 25.0, -18.0}), 27.1492, 1e-4);
    EXPECT_NEAR(delta_e_76({50, 0, 0}, {53, 4, 0}), 5.0, 1e-12);
}

TEST(Metrics, CleanClipIsQuiet) {
    const Measured m = measure(clean_clip());
    EXPECT_LT(m.temporal.flicker, 0.6);
    EXPECT_LT(m.temporal.warp_error, 1.0);
    EXPECT_LT(m.temporal.drift, 3.0);
    EXPECT_GE(m.identity.clip, 0.9);
    ASSERT_EQ(m.temporal.score_curve.size(), static_cast<size_t>(kFrames));
    for (double s : m.temporal.score_curve) EXPECT_GT(s, 0.8);
}

TEST(Metrics, ColourRampIsDriftOnly) {
    const Measured m = measure(with_colour_ramp(clean_clip()));
    EXPECT_GT(m.temporal.drift, 8.0);
    EXPECT_LT(m.temporal.flicker, 0.6);
    EXPECT_LT(m.temporal.warp_error, 1.0);
    EXPECT_GE(m.identity.clip, 0.9);
}

TEST(Metrics, FlickerIsFlickerOnly) {
    const Measured m = measure(with_flicker(clean_clip()));
    EXPECT_GT(m.temporal.flicker, 1.0);
    EXPECT_LT(m.temporal.warp_error, 1.0);
    EXPECT_LT(m.temporal.drift, 3.0);
    EXPECT_GE(m.identity.clip, 0.9);
}

TEST(Metrics, BoilingTextureIsWarpErrorOnly) {
    const Measured m = measure(with_boil(clean_clip()));
    EXPECT_GT(m.temporal.warp_error, 3.0);
    EXPECT_LT(m.temporal.flicker, 0.6);
    EXPECT_LT(m.temporal.drift, 3.0);
    EXPECT_GE(m.identity.clip, 0.9);
}

TEST(Metrics, SwappedObjectIsIdentityAndAWarpSpikeAtTheSwap) {
    constexpr int kSwap = 12;
    const Measured m = measure(clean_clip(kSwap));
    EXPECT_LT(m.identity.clip, 0.7);
    for (int t = 0; t < kFrames; ++t) {
        if (t < kSwap)
            EXPECT_GE(m.identity.per_frame[t], 0.9) << t;
        else
            EXPECT_LT(m.identity.per_frame[t], 0.2) << t;
    }
    EXPECT_LT(m.temporal.flicker, 0.6);
    EXPECT_LT(m.temporal.drift, 3.0);
    EXPECT_LT(m.temporal.warp_error, 1.0);      // one bad pair among 23 hardly moves the mean ...
    const auto& curve = m.temporal.warp_curve;  // ... but the curve peaks exactly there
    EXPECT_EQ(std::max_element(curve.begin(), curve.end()) - curve.begin(), kSwap);
    EXPECT_GT(m.temporal.warp_error_max, 3.0);
    EXPECT_LT(m.temporal.score_curve[kSwap], 0.5);
}

TEST(Metrics, IdentityTakesTheBestReference) {
    const core::Video swapped = clean_clip(12);
    auto both = measure_identity(swapped, {clean_clip().frames[0], swapped.frames[20]});
    ASSERT_TRUE(both.ok());
    EXPECT_GE(both->min, 0.9);
}

TEST(Metrics, KeypointsMatchTheSameTextureNotAnother) {
    // A high-contrast random block pattern: plenty of ORB corners.
    const auto blocks = [](uint32_t seed, int shift) {
        core::Frame f(kWidth, kHeight);
        for (int by = 0; by < kHeight / 8; ++by)
            for (int bx = 0; bx < kWidth / 8 + 1; ++bx) {
                seed = seed * 1664525u + 1013904223u;
                const uint8_t v = (seed >> 24) & 1 ? 230 : 30;
                for (int y = by * 8; y < by * 8 + 8; ++y)
                    for (int x = bx * 8 - shift; x < bx * 8 + 8 - shift; ++x)
                        if (x >= 0 && x < kWidth) std::fill_n(f.pixel(x, y), 3, v);
            }
        return f;
    };
    core::Video same, other;
    same.frames = {blocks(1, 0), blocks(1, 3)};
    other.frames = {blocks(2, 0)};
    auto s = measure_identity(same, {blocks(1, 0)});
    auto o = measure_identity(other, {blocks(1, 0)});
    ASSERT_TRUE(s.ok() && o.ok());
    ASSERT_GE(s->keypoints, 0.0) << "no keypoints found";
    EXPECT_GT(s->keypoints, 0.5);
    EXPECT_LT(o->keypoints, 0.2);
    EXPECT_GT(s->clip, o->clip);
}

TEST(Metrics, NoFaceInShapes) {
    auto score = measure_identity(clean_clip(), {clean_clip().frames[0]});
    ASSERT_TRUE(score.ok());
    EXPECT_EQ(score->reference_faces, 0);
    EXPECT_EQ(score->faces, -1.0);
    IdentityOptions no_cascade;
    no_cascade.face_cascade = "/nonexistent/cascade.xml";
    auto without = measure_identity(clean_clip(), {clean_clip().frames[0]}, no_cascade);
    ASSERT_TRUE(without.ok());
    EXPECT_FALSE(without->face_detector);
    EXPECT_DOUBLE_EQ(without->clip, score->clip);
}

TEST(Seam, CleanCutIsSmallJumpIsLarge) {
    const core::Video clean = clean_clip();
    const core::Video a = slice(clean, 0, 12), b = slice(clean, 12, 24);
    auto smooth = measure_seam(a, b);
    auto jump = measure_seam(a, with_jump(b));
    ASSERT_TRUE(smooth.ok() && jump.ok());
    EXPECT_LT(smooth->delta_e, 1.5);
    EXPECT_LT(std::abs(smooth->brightness_jump), 1.0);
    EXPECT_GT(jump->delta_e, 8.0);
    EXPECT_GT(jump->brightness_jump, 3.0);
    // The motion carries on through both: same speed and direction.
    EXPECT_LT(smooth->motion_jump, 1.0);
    EXPECT_LT(jump->motion_jump, 1.0);
    EXPECT_NEAR(smooth->speed_before, 3.0, 1.2);
}

TEST(Seam, ReversedMotionIsAMotionJump) {
    const core::Video clean = clean_clip();
    core::Video back = slice(clean, 12, 24);
    std::reverse(back.frames.begin(), back.frames.end());
    auto s = measure_seam(slice(clean, 0, 12), back);
    ASSERT_TRUE(s.ok());
    EXPECT_GT(s->motion_jump, 2.0);
    EXPECT_GT(s->direction_change, 90.0);
}

TEST(Seam, DifferentSizesAreResized) {
    core::Video small;
    core::Frame f(64, 48);
    std::fill(f.rgb.begin(), f.rgb.end(), uint8_t{128});
    small.frames = {f};
    auto s = measure_seam(clean_clip(-1, 2), small);
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_EQ(s->motion_jump, 0.0);  // one frame after: no motion term
}

TEST(Seam, JoinInsideAClipIsMeasuredLikeACut) {
    const core::Video clean = clean_clip();
    core::Video joined = slice(clean, 0, 12);
    for (auto& f : with_jump(slice(clean, 12, 24)).frames) joined.frames.push_back(f);
    auto smooth = measure_join(clean, 12), jump = measure_join(joined, 12);
    ASSERT_TRUE(smooth.ok() && jump.ok());
    EXPECT_LT(smooth->delta_e, 1.5);
    EXPECT_GT(jump->delta_e, 8.0);
    auto direct = measure_seam(slice(joined, 0, 12), slice(joined, 12, 24));
    ASSERT_TRUE(direct.ok());
    EXPECT_DOUBLE_EQ(jump->delta_e, direct->delta_e);
    EXPECT_FALSE(measure_join(clean, 0).ok());
    EXPECT_FALSE(measure_join(clean, clean.frame_count()).ok());
}

TEST(Seam, MeasureCutsWalksConsecutiveClipsOfVideoTracks) {
    // V1 = [a][b][c] where b|c has a planted jump; A1 holds a clip that is never measured.
    const core::Video clean = clean_clip();
    std::map<std::string, core::Video> media{
        {"a", slice(clean, 0, 8)}, {"b", slice(clean, 8, 16)}, {"c", with_jump(slice(clean, 16, 24))}};
    core::Project project = core::Project::make_new("cuts");
    core::Track& v1 = project.sequence.tracks.front();
    for (const char* id : {"a", "b", "c"}) {
        core::Clip clip;
        clip.id = id;
        clip.source.file = std::string(id) + ".mp4";
        clip.in = 0;
        clip.out = 8;
        clip.position = v1.end();
        v1.clips.push_back(clip);
    }
    const std::string v1_id = v1.id;  // v1 is a reference into the tracks, which grow below
    core::Track audio;
    audio.id = "A-music";
    audio.kind = core::TrackKind::Audio;
    core::Clip music;
    music.id = "m";
    music.out = 8;
    audio.clips.push_back(music);
    project.sequence.tracks.push_back(audio);
    std::vector<std::string> asked;
    const auto frames_of = [&](const core::Clip& clip) -> core::Result<core::Video> {
        asked.push_back(clip.id);
        if (!media.count(clip.id)) return core::fail("no media for " + clip.id);
        return media.at(clip.id);
    };
    auto cuts = measure_cuts(project, frames_of);
    ASSERT_TRUE(cuts.ok()) << cuts.message();
    ASSERT_EQ(cuts->size(), 2u);
    EXPECT_EQ((std::vector<std::string>{"a", "b", "c"}), asked);  // the audio clip is not read
    EXPECT_EQ((*cuts)[0].from_clip, "a");
    EXPECT_EQ((*cuts)[0].to_clip, "b");
    EXPECT_EQ((*cuts)[0].position, 8);
    EXPECT_EQ((*cuts)[1].track_id, v1_id);
    EXPECT_EQ((*cuts)[1].position, 16);
    EXPECT_LT((*cuts)[0].seam.delta_e, 1.5);  // a continuous cut
    EXPECT_GT((*cuts)[1].seam.delta_e, 8.0);  // the planted jump, found at its cut only

    // A clip whose media cannot be read stops the walk with a message naming the cut.
    media.erase("c");
    auto broken = measure_cuts(project, frames_of);
    ASSERT_FALSE(broken.ok());
    EXPECT_NE(broken.message().find("cut b | c"), std::string::npos) << broken.message();
}

TEST(Errors, EmptyOrRaggedInputIsAnError) {
    EXPECT_FALSE(measure_temporal(core::Video{}).ok());
    core::Video ragged = clean_clip(-1, 2);
    ragged.frames[1] = core::Frame(10, 10);
    auto r = measure_temporal(ragged);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.message().find("frame 1"), std::string::npos) << r.message();
    EXPECT_FALSE(measure_identity(clean_clip(-1, 2), {}).ok());
    core::Frame broken(8, 8);
    broken.rgb.resize(5);
    EXPECT_FALSE(measure_identity(clean_clip(-1, 2), {broken}).ok());
    EXPECT_FALSE(measure_seam(core::Video{}, clean_clip(-1, 2)).ok());
}

}  // namespace
}  // namespace fl::consistency
