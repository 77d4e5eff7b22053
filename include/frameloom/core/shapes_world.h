#pragma once
/// The "shapes world": the procedural world of the embedded default model. One coloured shape moving on a
/// plain background, its vocabulary with the renderer's exact RGB values, a prompt grammar with
/// paraphrases, a prompt parser, the held-out split, and the renderer. Shared by training (inference), the
/// judge (consistency) and tests, so it lives in core and uses only the standard library.

#include <array>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "frameloom/core/frame.h"
#include "frameloom/core/result.h"

namespace fl::core::shapes {

/// An 8-bit RGB colour.
struct Rgb {
    uint8_t r = 0, g = 0, b = 0;
    bool operator==(const Rgb&) const = default;
};

enum class Colour { Red, Orange, Yellow, Green, Blue, Purple, White };
enum class Shape { Circle, Square, Triangle };
enum class Motion { Left, Right, Up, Down, Still };
enum class Background { Black, Gray, DarkBlue, DarkGreen };

inline constexpr int kColours = 7, kShapes = 3, kMotions = 5, kBackgrounds = 4;
inline constexpr int kCombinations = kColours * kShapes * kMotions * kBackgrounds;  // 420

/// The renderer's exact RGB values.
Rgb rgb(Colour colour);
Rgb rgb(Background background);

/// Canonical words: "red", "circle", "moving left" / "standing still", "dark blue".
std::string name(Colour colour);
std::string name(Shape shape);
std::string name(Motion motion);
std::string name(Background background);

/// Everything that defines one clip of the world.
struct Scene {
    Colour colour = Colour::Red;
    Shape shape = Shape::Circle;
    Motion motion = Motion::Left;
    Background background = Background::Black;
    double size = 0.22;    ///< object height as a fraction of the frame height (0.15–0.30)
    double start_x = 0.5;  ///< centre at frame 0, as fractions of width/height
    double start_y = 0.5;
    double travel = 0.45;  ///< distance travelled over the clip, as a fraction of the frame (≥ 0.30)

    /// The object's centre (fractions of the frame) at frame `index` of `frames`.
    std::pair<double, double> centre(int index, int frames) const;
    /// Index in [0, kCombinations) of (colour, shape, motion, background).
    int combination() const;
    bool operator==(const Scene&) const = default;
};

/// "a red circle moving left on a black background"
std::string canonical_prompt(const Scene& scene);

/// A random paraphrase of the same content: motion phrases ("moves to the left", "going left", "heading
/// left", "staying still"), background phrases ("over a black background", "black background", ...), word
/// order, capitals and punctuation.
std::string paraphrase(const Scene& scene, std::mt19937_64& rng);

/// The same grammar with the subject left to a reference image: "the object moving right on a gray
/// background", "On a black background, the shape heading up".
std::string paraphrase_unnamed(const Scene& scene, std::mt19937_64& rng);

/// The content words a prompt names; fields are empty when the prompt does not say.
struct PromptContent {
    std::optional<Colour> colour;
    std::optional<Shape> shape;
    std::optional<Motion> motion;
    std::optional<Background> background;
};

/// Reads colour, shape, motion and background from any prompt of the grammar (order, case and punctuation
/// free). "dark blue" and "dark green" name backgrounds; a colour word next to "background" names it too.
PromptContent parse_prompt(const std::string& prompt);

/// The scene of a combination index (default size, start and travel).
Scene scene_of(int combination);

/// True for the combinations held out of training (84 of 420 = 20%; every colour, shape, motion and
/// background value still appears in training).
bool is_held_out(int combination);

/// Which combinations to draw from.
enum class Split { Train, HeldOut, All };

/// A random scene of the split with random size, start and travel that keep the object inside the frame.
Scene random_scene(std::mt19937_64& rng, Split split);

/// Renders the scene: the background colour everywhere, the object in its colour (hard edges, exact RGB).
Video render(const Scene& scene, int width, int height, int frames, FrameRate fps);

}  // namespace fl::core::shapes
