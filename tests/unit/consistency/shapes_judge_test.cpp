// The judge names what the renderer drew: colour, shape, motion and background of ground-truth clips.
#include "frameloom/consistency/shapes_judge.h"

#include <gtest/gtest.h>

namespace fl::consistency {
namespace {

namespace shapes = core::shapes;

TEST(ShapesJudge, NamesRenderedGroundTruth) {
    std::mt19937_64 rng(11);
    int colour = 0, shape = 0, motion = 0, background = 0;
    constexpr int kClips = 300;
    for (int i = 0; i < kClips; ++i) {
        const shapes::Scene s = shapes::random_scene(rng, shapes::Split::All);
        const auto j = judge_shapes(shapes::render(s, 64, 64, 16, {8, 1}));
        ASSERT_TRUE(j.ok());
        ASSERT_TRUE(j->object_found) << shapes::canonical_prompt(s);
        colour += j->colour == s.colour;
        shape += j->shape == s.shape;
        motion += j->motion == s.motion;
        background += j->background == s.background;
        // Shapes under ~10 px tall are sometimes ambiguous; the aggregate bound below covers them.
        EXPECT_EQ(j->motion, s.motion) << shapes::canonical_prompt(s) << " travel " << j->travel;
    }
    EXPECT_EQ(colour, kClips);
    EXPECT_EQ(background, kClips);
    EXPECT_GE(shape, kClips * 97 / 100);
    EXPECT_GE(motion, kClips * 99 / 100);
}

TEST(ShapesJudge, TracksTheCentroidFrameByFrame) {
    shapes::Scene s = shapes::scene_of(0);  // red circle moving left on black
    s.size = 0.25;
    s.start_x = 0.7;
    s.start_y = 0.5;
    s.travel = 0.4;
    const auto j = judge_shapes(shapes::render(s, 64, 64, 16, {8, 1}));
    ASSERT_TRUE(j.ok());
    ASSERT_EQ(j->track.size(), 16u);
    for (int f = 0; f < 16; ++f) {
        const auto [cx, cy] = s.centre(f, 16);
        ASSERT_TRUE(j->track[static_cast<size_t>(f)].found);
        EXPECT_NEAR(j->track[static_cast<size_t>(f)].x, cx * 64, 0.75) << "frame " << f;
        EXPECT_NEAR(j->track[static_cast<size_t>(f)].y, cy * 64, 0.75) << "frame " << f;
    }
}

TEST(ShapesJudge, NoiseHasNoObjectAndEmptyClipsAreErrors) {
    core::Video noise;
    std::mt19937 rng(1);
    for (int f = 0; f < 8; ++f) {
        core::Frame frame(64, 64);
        for (auto& b : frame.rgb) b = static_cast<uint8_t>(rng() & 0xff);
        noise.frames.push_back(frame);
    }
    const auto j = judge_shapes(noise);
    ASSERT_TRUE(j.ok());
    // Noise is no shape on a plain background: whatever the judge names, it is far from every colour.
    EXPECT_GT(j->background_distance, 30.0);
    EXPECT_FALSE(judge_shapes(core::Video{}).ok());
}

}  // namespace
}  // namespace fl::consistency
