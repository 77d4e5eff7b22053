#pragma once
// Synthetic clips drawn in code: a coloured shape moving over a textured grey backdrop, plus planted defects.

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "frameloom/core/frame.h"

namespace fl::consistency::testing {

inline constexpr int kWidth = 128, kHeight = 96, kFrames = 24;

struct Rgb {
    int r, g, b;
};
inline constexpr Rgb kRed{220, 40, 40}, kGreen{40, 200, 60};

enum class Shape { Disc, Square };

inline uint8_t clamp8(double v) { return static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L)); }

/// The backdrop: mid grey with a gentle static texture (so flow has something to hold on to).
inline core::Frame backdrop() {
    core::Frame f(kWidth, kHeight);
    for (int y = 0; y < kHeight; ++y)
        for (int x = 0; x < kWidth; ++x) {
            const double v = 120 + 10 * std::sin(x * 0.35) * std::cos(y * 0.27);
            uint8_t* p = f.pixel(x, y);
            p[0] = clamp8(v);
            p[1] = clamp8(v + 4);
            p[2] = clamp8(v + 8);
        }
    return f;
}

/// Draws a disc (radius 12) or square (side 24) centred at (cx, cy), 1-pixel soft edge.
inline void draw(core::Frame& f, Shape shape, Rgb c, double cx, double cy) {
    for (int y = 0; y < f.height; ++y)
        for (int x = 0; x < f.width; ++x) {
            const double dx = x - cx, dy = y - cy;
            const double d = shape == Shape::Disc ? std::hypot(dx, dy) - 12.0
                                                  : std::max(std::abs(dx), std::abs(dy)) - 12.0;
            const double cover = std::clamp(0.5 - d, 0.0, 1.0);
            if (cover <= 0) continue;
            uint8_t* p = f.pixel(x, y);
            p[0] = clamp8(p[0] * (1 - cover) + c.r * cover);
            p[1] = clamp8(p[1] * (1 - cover) + c.g * cover);
            p[2] = clamp8(p[2] * (1 - cover) + c.b * cover);
        }
}

/// Position of the shape at frame t: left to right, 3 px per frame, with a gentle bob.
inline double shape_x(int t) { return 28.0 + 3.0 * t; }
inline double shape_y(int t) { return 48.0 + 6.0 * std::sin(t * 0.3); }

/// The clean clip: a red disc moving over the backdrop. `swap_at` >= 0 turns it into a green square there.
inline core::Video clean_clip(int swap_at = -1, int frames = kFrames) {
    core::Video v;
    v.fps = {8, 1};
    const core::Frame bg = backdrop();
    for (int t = 0; t < frames; ++t) {
        core::Frame f = bg;
        const bool swapped = swap_at >= 0 && t >= swap_at;
        draw(f, swapped ? Shape::Square : Shape::Disc, swapped ? kGreen : kRed, shape_x(t), shape_y(t));
        v.frames.push_back(f);
    }
    return v;
}

/// Adds (dr, dg, db) to every pixel of a frame.
inline void add(core::Frame& f, double dr, double dg, double db) {
    for (size_t i = 0; i < f.rgb.size(); i += 3) {
        f.rgb[i] = clamp8(f.rgb[i] + dr);
        f.rgb[i + 1] = clamp8(f.rgb[i + 1] + dg);
        f.rgb[i + 2] = clamp8(f.rgb[i + 2] + db);
    }
}

/// Defect: a colour cast growing linearly over time (+1.5 R, −1 B per frame).
inline core::Video with_colour_ramp(core::Video v) {
    for (size_t t = 0; t < v.frames.size(); ++t) add(v.frames[t], 1.5 * t, 0, -1.0 * t);
    return v;
}

/// Defect: brightness flickering by up to ±8 levels from frame to frame (fixed pseudo-random sequence).
inline core::Video with_flicker(core::Video v) {
    uint32_t state = 12345;
    for (auto& f : v.frames) {
        state = state * 1664525u + 1013904223u;
        const double offset = (static_cast<double>(state >> 8) / (1u << 24)) * 16.0 - 8.0;
        add(f, offset, offset, offset);
    }
    return v;
}

/// Defect: texture boiling — a fresh zero-mean pixel noise (±12 levels) on every frame.
inline core::Video with_boil(core::Video v) {
    uint32_t state = 777;
    for (auto& f : v.frames)
        for (size_t i = 0; i < f.rgb.size(); i += 3) {
            state = state * 1664525u + 1013904223u;
            const double n = (static_cast<double>(state >> 8) / (1u << 24)) * 24.0 - 12.0;
            for (int c = 0; c < 3; ++c) f.rgb[i + c] = clamp8(f.rgb[i + c] + n);
        }
    return v;
}

/// Frames [from, to) of a clip.
inline core::Video slice(const core::Video& v, int from, int to) {
    core::Video out;
    out.fps = v.fps;
    out.frames.assign(v.frames.begin() + from, v.frames.begin() + to);
    return out;
}

/// Defect at a seam: a warm cast and brighter exposure on everything after it.
inline core::Video with_jump(core::Video v) {
    for (auto& f : v.frames) add(f, 28, 12, -14);
    return v;
}

}  // namespace fl::consistency::testing
