#include "frameloom/core/shapes_world.h"

#include <gtest/gtest.h>

#include <set>

namespace fl::core::shapes {
namespace {

/// Centroid, bounding box and pixel count of the pixels that differ from the background.
struct Blob {
    double cx = 0, cy = 0;
    int min_x = 1 << 30, max_x = -1, min_y = 1 << 30, max_y = -1, count = 0;
};

Blob find_object(const Frame& f, Rgb bg) {
    Blob b;
    for (int y = 0; y < f.height; ++y)
        for (int x = 0; x < f.width; ++x) {
            const uint8_t* p = f.pixel(x, y);
            if (p[0] == bg.r && p[1] == bg.g && p[2] == bg.b) continue;
            b.cx += x;
            b.cy += y;
            b.min_x = std::min(b.min_x, x);
            b.max_x = std::max(b.max_x, x);
            b.min_y = std::min(b.min_y, y);
            b.max_y = std::max(b.max_y, y);
            ++b.count;
        }
    if (b.count) {
        b.cx /= b.count;
        b.cy /= b.count;
    }
    return b;
}

TEST(ShapesWorld, VocabularyHasTheExactRgbValues) {
    EXPECT_EQ(rgb(Colour::Red), (Rgb{220, 40, 40}));
    EXPECT_EQ(rgb(Colour::Orange), (Rgb{240, 140, 20}));
    EXPECT_EQ(rgb(Colour::Yellow), (Rgb{235, 220, 40}));
    EXPECT_EQ(rgb(Colour::Green), (Rgb{40, 180, 60}));
    EXPECT_EQ(rgb(Colour::Blue), (Rgb{40, 80, 230}));
    EXPECT_EQ(rgb(Colour::Purple), (Rgb{150, 60, 200}));
    EXPECT_EQ(rgb(Colour::White), (Rgb{240, 240, 240}));
    EXPECT_EQ(rgb(Background::Black), (Rgb{15, 15, 15}));
    EXPECT_EQ(rgb(Background::Gray), (Rgb{110, 110, 110}));
    EXPECT_EQ(rgb(Background::DarkBlue), (Rgb{20, 30, 80}));
    EXPECT_EQ(rgb(Background::DarkGreen), (Rgb{20, 60, 30}));
}

TEST(ShapesWorld, CanonicalPrompt) {
    EXPECT_EQ(canonical_prompt(Scene{}), "a red circle moving left on a black background");
}

TEST(ShapesWorld, ParsesTheIssuesParaphrases) {
    const auto a = parse_prompt("On a gray background, a green square heading up");
    EXPECT_EQ(a.colour, Colour::Green);
    EXPECT_EQ(a.shape, Shape::Square);
    EXPECT_EQ(a.motion, Motion::Up);
    EXPECT_EQ(a.background, Background::Gray);
    const auto b = parse_prompt("yellow triangle, going down, dark green background");
    EXPECT_EQ(b.colour, Colour::Yellow);
    EXPECT_EQ(b.shape, Shape::Triangle);
    EXPECT_EQ(b.motion, Motion::Down);
    EXPECT_EQ(b.background, Background::DarkGreen);
    const auto c = parse_prompt("A BLUE CIRCLE STAYING STILL OVER A DARK BLUE BACKGROUND.");
    EXPECT_EQ(c.colour, Colour::Blue);
    EXPECT_EQ(c.motion, Motion::Still);
    EXPECT_EQ(c.background, Background::DarkBlue);
    const auto d = parse_prompt("the object moving right");
    EXPECT_FALSE(d.colour.has_value());
    EXPECT_EQ(d.motion, Motion::Right);
}

TEST(ShapesWorld, EveryParaphraseParsesBackToItsScene) {
    std::mt19937_64 rng(1);
    std::set<std::string> distinct;
    for (int i = 0; i < 2000; ++i) {
        const Scene s = random_scene(rng, Split::All);
        const std::string text = paraphrase(s, rng);
        distinct.insert(text);
        const auto p = parse_prompt(text);
        ASSERT_EQ(p.colour, s.colour) << text;
        ASSERT_EQ(p.shape, s.shape) << text;
        ASSERT_EQ(p.motion, s.motion) << text;
        ASSERT_EQ(p.background, s.background) << text;
    }
    EXPECT_GT(distinct.size(), 1500u);  // paraphrases really vary
}

TEST(ShapesWorld, HeldOutIsTwentyPercentAndTrainingCoversEveryWord) {
    int held = 0;
    std::set<int> colours, shapes, motions, backgrounds;
    for (int c = 0; c < kCombinations; ++c) {
        if (is_held_out(c)) {
            ++held;
            continue;
        }
        const Scene s = scene_of(c);
        EXPECT_EQ(s.combination(), c);
        backgrounds.insert(static_cast<int>(s.background));
        motions.insert(static_cast<int>(s.motion));
        shapes.insert(static_cast<int>(s.shape));
        colours.insert(static_cast<int>(s.colour));
    }
    EXPECT_EQ(held, 84);
    EXPECT_GE(held * 5, kCombinations);
    EXPECT_EQ(colours.size(), 7u);
    EXPECT_EQ(shapes.size(), 3u);
    EXPECT_EQ(motions.size(), 5u);
    EXPECT_EQ(backgrounds.size(), 4u);

    std::mt19937_64 rng(2);
    for (int i = 0; i < 500; ++i) {
        EXPECT_FALSE(is_held_out(random_scene(rng, Split::Train).combination()));
        EXPECT_TRUE(is_held_out(random_scene(rng, Split::HeldOut).combination()));
    }
}

TEST(ShapesWorld, RenderedClipsKeepTheObjectInsideAndMoveAsSaid) {
    std::mt19937_64 rng(3);
    for (int i = 0; i < 200; ++i) {
        const Scene s = random_scene(rng, Split::All);
        const Video v = render(s, 64, 64, 16, FrameRate{8, 1});
        ASSERT_EQ(v.frame_count(), 16);
        const Rgb bg = rgb(s.background), fg = rgb(s.colour);
        // The corner is background and every non-background pixel is exactly the object's colour.
        const uint8_t* corner = v.frames[0].pixel(0, 0);
        EXPECT_EQ((Rgb{corner[0], corner[1], corner[2]}), bg);
        const Blob first = find_object(v.frames.front(), bg), last = find_object(v.frames.back(), bg);
        ASSERT_GT(first.count, 0);
        const uint8_t* c = v.frames[0].pixel(static_cast<int>(first.cx), static_cast<int>(first.cy));
        if (s.shape != Shape::Triangle) {
            EXPECT_EQ((Rgb{c[0], c[1], c[2]}), fg);
        }
        // Height 15–30% of the frame (pixel rounding: ±1 px).
        const int extent = first.max_y - first.min_y + 1;
        EXPECT_GE(extent, 0.15 * 64 - 1) << i;
        EXPECT_LE(extent, 0.30 * 64 + 1) << i;
        // The whole object stays inside the frame: it never touches the border.
        for (const Blob* b : {&first, &last}) {
            EXPECT_GT(b->min_x, 0) << i;
            EXPECT_LT(b->max_x, 63) << i;
            EXPECT_GT(b->min_y, 0) << i;
            EXPECT_LT(b->max_y, 63) << i;
        }
        const double dx = (last.cx - first.cx) / 64.0, dy = (last.cy - first.cy) / 64.0;
        switch (s.motion) {
            case Motion::Left: EXPECT_LE(dx, -0.28) << i; break;
            case Motion::Right: EXPECT_GE(dx, 0.28) << i; break;
            case Motion::Up: EXPECT_LE(dy, -0.28) << i; break;
            case Motion::Down: EXPECT_GE(dy, 0.28) << i; break;
            case Motion::Still: EXPECT_NEAR(dx, 0.0, 1e-9); EXPECT_NEAR(dy, 0.0, 1e-9); break;
        }
    }
}

TEST(ShapesWorld, RenderingIsDeterministic) {
    std::mt19937_64 a(9), b(9);
    const Scene sa = random_scene(a, Split::All), sb = random_scene(b, Split::All);
    EXPECT_EQ(sa, sb);
    EXPECT_EQ(render(sa, 64, 48, 4, {8, 1}).frames[3].rgb, render(sb, 64, 48, 4, {8, 1}).frames[3].rgb);
}

}  // namespace
}  // namespace fl::core::shapes
