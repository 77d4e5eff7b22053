#pragma once
/// A Shot is what to generate (prompt and parameters); its Takes are what was generated.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "frameloom/core/result.h"
#include "frameloom/core/time.h"

namespace fl::core {

/// Optional conditioning inputs of a generation (paths to images or clips; empty = unused).
struct Conditioning {
    std::string first_frame;              ///< image to start from (image-to-video)
    std::string last_frame;               ///< image to end on (keyframes)
    std::string extend;                   ///< clip to continue
    bool keep_source = false;             ///< with `extend`: the output starts with the source clip
    /// With `extend`: new frames to make. 0 = one pass of the model (its clip length less the frames it
    /// continues from); more chains passes, each continuing the last, and cuts to this length.
    int64_t extend_frames = 0;
    std::vector<std::string> references;  ///< reference images of a character or object
    /// A clip whose frames the shot is made over (VACE): with `mask`, the masked pixels are generated anew
    /// and the rest kept (in-painting); without, the whole clip guides the result (a pose, depth or edge
    /// video — VACE's control input).
    std::string video;
    /// With `video`: an image (every frame) or a clip (frame by frame); white = generate, black = keep.
    std::string mask;

    bool operator==(const Conditioning&) const = default;

    /// Calls `visit` on every file path it names (for rebasing and collecting media).
    void for_each_file(const std::function<void(std::string&)>& visit);
};

/// Every parameter of one generation. A Take stores a copy of exactly what was used.
struct GenerationParams {
    std::string prompt;
    std::string negative_prompt;
    std::string model = "default";  ///< model id from the store, or a path
    uint64_t seed = 0;
    int steps = 20;
    double guidance = 5.0;
    double shift = 3.0;
    std::string sampler = "euler";  ///< flow sampler: "euler", "unipc" or "dpm++" (projects without it: euler)
    int width = 64;
    int height = 64;
    int frames = 16;
    FrameRate fps{8, 1};
    Conditioning conditioning;

    /// Checks ranges (size divisible by 16, frames > 0, steps > 0, ...); the error says which field.
    Result<void> validate() const;
    /// Structural checks every stored parameter set meets (steps, size, frames positive; fps positive).
    /// Weaker than validate(): a storyboard shot may still lack a prompt while it is being written.
    Result<void> check_invariants() const;
    bool operator==(const GenerationParams&) const = default;
};

/// One generated result of a shot: the parameters used, the file written and its content hash.
struct Take {
    std::string id;             ///< unique within the project, e.g. "take-3"
    GenerationParams params;    ///< exactly what was used (seed resolved, model resolved)
    std::string file;           ///< path of the media, relative to the project file when possible
    std::string sha256;         ///< hex SHA-256 of the file's bytes
    std::string created;        ///< ISO-8601 UTC time of creation
    double generation_seconds = 0.0;

    Result<void> check_invariants() const;
    bool operator==(const Take&) const = default;
};

/// A shot of the storyboard: its current parameters and every take generated so far.
struct Shot {
    std::string id;     ///< unique within the project, e.g. "shot-1"
    std::string name;   ///< user label, e.g. "Opening"
    GenerationParams params;
    std::vector<Take> takes;
    std::string selected_take;  ///< id of the chosen take, or empty

    const Take* find_take(const std::string& take_id) const;
    Result<void> check_invariants() const;
    bool operator==(const Shot&) const = default;
};

}  // namespace fl::core
