#include "frameloom/core/shapes_world.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <sstream>

namespace fl::core::shapes {
namespace {

template <class T>
const T& pick(const std::vector<T>& options, std::mt19937_64& rng) {
    return options[std::uniform_int_distribution<size_t>(0, options.size() - 1)(rng)];
}

double uniform(std::mt19937_64& rng, double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(rng);
}

std::vector<std::string> motion_phrases(Motion m) {
    if (m == Motion::Still) return {"standing still", "staying still", "holding still", "still"};
    const std::string d = name(m).substr(std::string("moving ").size());  // "left"
    return {"moving " + d, "moves to the " + d, "going " + d, "heading " + d, "moving to the " + d, "moves " + d};
}

std::vector<std::string> background_phrases(Background b) {
    const std::string n = name(b);
    return {"on a " + n + " background", "over a " + n + " background", n + " background",
            "against a " + n + " background", "on " + n + " background"};
}

}  // namespace

Rgb rgb(Colour c) {
    static constexpr std::array<Rgb, kColours> table = {{{220, 40, 40}, {240, 140, 20}, {235, 220, 40},
                                                         {40, 180, 60}, {40, 80, 230}, {150, 60, 200},
                                                         {240, 240, 240}}};
    return table[static_cast<size_t>(c)];
}

Rgb rgb(Background b) {
    static constexpr std::array<Rgb, kBackgrounds> table = {{{15, 15, 15}, {110, 110, 110}, {20, 30, 80}, {20, 60, 30}}};
    return table[static_cast<size_t>(b)];
}

std::string name(Colour c) {
    static const char* names[] = {"red", "orange", "yellow", "green", "blue", "purple", "white"};
    return names[static_cast<int>(c)];
}
std::string name(Shape s) {
    static const char* names[] = {"circle", "square", "triangle"};
    return names[static_cast<int>(s)];
}
std::string name(Motion m) {
    static const char* names[] = {"moving left", "moving right", "moving up", "moving down", "standing still"};
    return names[static_cast<int>(m)];
}
std::string name(Background b) {
    static const char* names[] = {"black", "gray", "dark blue", "dark green"};
    return names[static_cast<int>(b)];
}

std::pair<double, double> Scene::centre(int index, int frames) const {
    const double t = frames > 1 ? static_cast<double>(index) / (frames - 1) : 0.0;
    double dx = 0.0, dy = 0.0;
    switch (motion) {
        case Motion::Left: dx = -travel; break;
        case Motion::Right: dx = travel; break;
        case Motion::Up: dy = -travel; break;
        case Motion::Down: dy = travel; break;
        case Motion::Still: break;
    }
    return {start_x + dx * t, start_y + dy * t};
}

int Scene::combination() const {
    return ((static_cast<int>(colour) * kShapes + static_cast<int>(shape)) * kMotions + static_cast<int>(motion)) *
               kBackgrounds +
           static_cast<int>(background);
}

std::string canonical_prompt(const Scene& s) {
    return "a " + name(s.colour) + " " + name(s.shape) + " " + name(s.motion) + " on a " + name(s.background) +
           " background";
}

namespace {

/// The prompt grammar around a given subject phrase ("a red circle", "the object").
std::string compose(const std::string& object, const Scene& s, std::mt19937_64& rng) {
    const std::string motion = pick(motion_phrases(s.motion), rng);
    const std::string background = pick(background_phrases(s.background), rng);
    std::string text;
    switch (std::uniform_int_distribution<int>(0, 4)(rng)) {
        case 0: text = object + " " + motion + " " + background; break;
        case 1: text = background + ", " + object + " " + motion; break;
        case 2: text = object + ", " + motion + ", " + background; break;
        case 3: text = object + " " + background + ", " + motion; break;
        default: text = background + ": " + object + ", " + motion; break;
    }
    switch (std::uniform_int_distribution<int>(0, 3)(rng)) {
        case 0: text[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(text[0]))); break;
        case 1: std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::toupper(c); }); break;
        default: break;
    }
    if (std::uniform_int_distribution<int>(0, 1)(rng)) text += ".";
    return text;
}

}  // namespace

std::string paraphrase(const Scene& s, std::mt19937_64& rng) {
    return compose(pick<std::string>({"a ", "the ", ""}, rng) + name(s.colour) + " " + name(s.shape), s, rng);
}

std::string paraphrase_unnamed(const Scene& s, std::mt19937_64& rng) {
    return compose(pick<std::string>({"the object", "the shape", "the same object", "it"}, rng), s, rng);
}

PromptContent parse_prompt(const std::string& prompt) {
    std::string clean;
    for (const unsigned char c : prompt) clean += std::isalpha(c) ? static_cast<char>(std::tolower(c)) : ' ';
    std::vector<std::string> w;
    std::istringstream in(clean);
    for (std::string word; in >> word;) w.push_back(word == "grey" ? "gray" : word);

    PromptContent out;
    std::vector<bool> used(w.size(), false);
    // Background: the colour words just before "background".
    for (size_t i = 0; i < w.size(); ++i) {
        if (w[i] != "background" || i == 0) continue;
        const std::string& prev = w[i - 1];
        const bool dark = i >= 2 && w[i - 2] == "dark";
        if (prev == "black") out.background = Background::Black;
        if (prev == "gray") out.background = Background::Gray;
        if (prev == "blue" && dark) out.background = Background::DarkBlue;
        if (prev == "green" && dark) out.background = Background::DarkGreen;
        if (out.background) {
            used[i - 1] = true;
            if (dark) used[i - 2] = true;
        }
    }
    for (size_t i = 0; i < w.size(); ++i) {
        if (used[i]) continue;
        for (int c = 0; c < kColours; ++c)
            if (w[i] == name(static_cast<Colour>(c)) && !(i > 0 && w[i - 1] == "dark")) out.colour = static_cast<Colour>(c);
        for (int s = 0; s < kShapes; ++s)
            if (w[i] == name(static_cast<Shape>(s))) out.shape = static_cast<Shape>(s);
        if (w[i] == "left") out.motion = Motion::Left;
        if (w[i] == "right") out.motion = Motion::Right;
        if (w[i] == "up") out.motion = Motion::Up;
        if (w[i] == "down") out.motion = Motion::Down;
        if (w[i] == "still") out.motion = Motion::Still;
    }
    return out;
}

Scene scene_of(int combination) {
    Scene s;
    s.background = static_cast<Background>(combination % kBackgrounds);
    s.motion = static_cast<Motion>((combination / kBackgrounds) % kMotions);
    s.shape = static_cast<Shape>((combination / (kBackgrounds * kMotions)) % kShapes);
    s.colour = static_cast<Colour>(combination / (kBackgrounds * kMotions * kShapes));
    return s;
}

bool is_held_out(int combination) {
    const Scene sc = scene_of(combination);
    const int b = static_cast<int>(sc.background), m = static_cast<int>(sc.motion);
    const int s = static_cast<int>(sc.shape), c = static_cast<int>(sc.colour);
    // For each (colour, shape, background) exactly one of the five motions is held out: 84 of 420.
    return (c + 2 * s + 3 * m + b) % 5 == 0;
}

Scene random_scene(std::mt19937_64& rng, Split split) {
    Scene s;
    for (;;) {
        const int combo = std::uniform_int_distribution<int>(0, kCombinations - 1)(rng);
        if (split == Split::Train && is_held_out(combo)) continue;
        if (split == Split::HeldOut && !is_held_out(combo)) continue;
        s = scene_of(combo);
        break;
    }
    s.size = uniform(rng, 0.15, 0.30);
    const double half = s.size / 2.0 + 0.02;  // margin so the object stays whole inside the frame
    s.travel = s.motion == Motion::Still ? 0.0 : uniform(rng, 0.30, std::max(0.30, 1.0 - 2.0 * half));
    const double lo = half, hi = 1.0 - half;
    s.start_x = uniform(rng, lo, hi);
    s.start_y = uniform(rng, lo, hi);
    switch (s.motion) {
        case Motion::Left: s.start_x = uniform(rng, lo + s.travel, std::max(lo + s.travel, hi)); break;
        case Motion::Right: s.start_x = uniform(rng, lo, std::max(lo, hi - s.travel)); break;
        case Motion::Up: s.start_y = uniform(rng, lo + s.travel, std::max(lo + s.travel, hi)); break;
        case Motion::Down: s.start_y = uniform(rng, lo, std::max(lo, hi - s.travel)); break;
        case Motion::Still: break;
    }
    return s;
}

Video render(const Scene& scene, int width, int height, int frames, FrameRate fps) {
    Video video;
    video.fps = fps;
    const Rgb bg = rgb(scene.background), fg = rgb(scene.colour);
    const double extent = scene.size * height;  // object height in pixels (width too: shapes are not stretched)
    for (int f = 0; f < frames; ++f) {
        Frame frame(width, height);
        const auto [cxf, cyf] = scene.centre(f, frames);
        const double cx = cxf * width, cy = cyf * height, h = extent / 2.0;
        for (int y = 0; y < height; ++y) {
            for (int x = 0; x < width; ++x) {
                const double px = x + 0.5 - cx, py = y + 0.5 - cy;  // pixel centre relative to the object centre
                bool inside = false;
                switch (scene.shape) {
                    case Shape::Circle: inside = px * px + py * py <= h * h; break;
                    case Shape::Square: inside = std::abs(px) <= h && std::abs(py) <= h; break;
                    case Shape::Triangle:  // apex up, base at the bottom, as wide as it is tall
                        inside = py >= -h && py <= h && std::abs(px) <= (py + h) / 2.0;
                        break;
                }
                const Rgb c = inside ? fg : bg;
                uint8_t* p = frame.pixel(x, y);
                p[0] = c.r;
                p[1] = c.g;
                p[2] = c.b;
            }
        }
        video.frames.push_back(std::move(frame));
    }
    return video;
}

}  // namespace fl::core::shapes
