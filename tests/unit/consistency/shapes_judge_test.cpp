// The judge names what the renderer drew: colour, shape, motion and background of ground-truth clips.
#include "frameloom/consistency/shapes_judge.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <utility>
#include <vector>

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

/// Each frame convolved with a Gaussian of `sigma` px (separable, edges clamped): what a soft model or a
/// lossy encoder makes of a hard-edged object.
core::Video blurred(const core::Video& video, double sigma) {
    const int r = static_cast<int>(std::ceil(3 * sigma));
    std::vector<double> k(static_cast<size_t>(2 * r + 1));
    double sum = 0;
    for (int i = -r; i <= r; ++i)
        sum += k[static_cast<size_t>(i + r)] = std::exp(-i * i / (2 * sigma * sigma));
    for (auto& v : k) v /= sum;
    core::Video out = video;
    for (auto& f : out.frames) {
        const int w = f.width, h = f.height;
        const auto pass = [&](const std::vector<uint8_t>& src, int dx, int dy) {
            std::vector<uint8_t> dst(src.size());
            for (int y = 0; y < h; ++y)
                for (int x = 0; x < w; ++x)
                    for (int c = 0; c < 3; ++c) {
                        double acc = 0;
                        for (int i = -r; i <= r; ++i) {
                            const int sx = std::clamp(x + i * dx, 0, w - 1),
                                      sy = std::clamp(y + i * dy, 0, h - 1);
                            acc += k[static_cast<size_t>(i + r)] *
                                   src[static_cast<size_t>((sy * w + sx) * 3 + c)];
                        }
                        dst[static_cast<size_t>((y * w + x) * 3 + c)] =
                            static_cast<uint8_t>(std::lround(acc));
                    }
            return dst;
        };
        f.rgb = pass(pass(f.rgb, 1, 0), 0, 1);
    }
    return out;
}

TEST(ShapesJudge, NamesTheShapeOfSoftenedObjects) {
    // A blurred square is still a square: the judge outlines the object where it is half-way from the
    // background to its colour, not at the faint edge of the blur, which rounds every shape into a disc.
    // Its colour is read at its core. (The judge before both gave 70 of 90 shapes at σ 1.5 and 89 of 90
    // colours at σ 1.)
    std::mt19937_64 rng(12);
    for (const auto& [sigma, shape_share] : {std::pair{1.0, 0.97}, std::pair{1.5, 0.88}}) {
        int shape = 0, colour = 0, motion = 0;
        constexpr int kClips = 90;
        for (int i = 0; i < kClips; ++i) {
            const shapes::Scene s = shapes::random_scene(rng, shapes::Split::All);
            const auto j = judge_shapes(blurred(shapes::render(s, 64, 64, 16, {8, 1}), sigma));
            ASSERT_TRUE(j.ok());
            ASSERT_TRUE(j->object_found) << shapes::canonical_prompt(s);
            shape += j->shape == s.shape;
            colour += j->colour == s.colour;
            motion += j->motion == s.motion;
        }
        EXPECT_GE(shape, shape_share * kClips) << "sigma " << sigma;
        EXPECT_EQ(colour, kClips) << "sigma " << sigma;
        EXPECT_GE(motion, kClips * 97 / 100) << "sigma " << sigma;
    }
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
