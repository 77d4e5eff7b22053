#pragma once
/// The model store: model cards (JSON) in models/, laid out as ComfyUI users know it.

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "frameloom/core/result.h"
#include "frameloom/core/time.h"

namespace fl::inference {

/// Default generation settings of a model.
struct ModelDefaults {
    int steps = 20;
    double guidance = 5.0;
    double shift = 3.0;
    std::string sampler = "euler";  ///< "euler", "unipc" or "dpm++" (card field defaults.sampler; euler when absent)
    int width = 64;
    int height = 64;
    int frames = 16;
    core::FrameRate fps{8, 1};
    std::string negative_prompt;
};

/// A frame size a model supports (card field "sizes": ["832x480", ...]).
struct ModelSize {
    int width = 0;
    int height = 0;
    bool operator==(const ModelSize&) const = default;
};

/// One piece of a model that is not on disk, described for a user.
struct MissingPiece {
    std::string role;    ///< "clip_vision"
    std::string what;    ///< "CLIP vision encoder"
    std::string path;    ///< where the card expects it, relative to the store root: "clip_vision/clip_vision_h.safetensors"
    std::string source;  ///< where to get it (a URL), "" when the card does not say
};

/// A user-readable name for a file role ("clip_vision" → "CLIP vision encoder"); unknown roles as they are.
std::string describe_role(const std::string& role);

/// A model card: what a model is, which files it needs, what it supports.
struct ModelCard {
    std::string id;                     ///< e.g. "shapes-tiny"
    std::vector<std::string> aliases;   ///< e.g. {"default"}
    std::string name;                   ///< display name
    std::string description;
    std::string architecture;           ///< "wan-dit"
    std::string codec;                  ///< "patch" (pixel patch codec), "wan-vae" or "wan22-vae" (files role "vae")
    std::vector<int> codec_patch;       ///< [pt, ph, pw] for the patch codec
    std::map<std::string, std::string> files;  ///< role ("dit", "text_encoder", "tokenizer") → path
    /// role → other accepted paths (e.g. the original Wan repo's names), tried in order when files[role] is absent.
    std::map<std::string, std::vector<std::string>> alternatives;
    std::map<std::string, std::string> sources;  ///< role → where to get its file (a URL)
    std::vector<ModelSize> sizes;                ///< supported frame sizes; empty: any multiple of the patch
    std::vector<std::string> tasks;     ///< "t2v", "i2v", "flf2v", "extend", "reference", ...
    /// How frames and reference images reach the DiT: "" (the checkpoint's own scheme) or "frame-mask" (the
    /// shapes model: known frames enter clean beside a known-mask and a reference-flag channel, reference
    /// images as extra leading frames; see src/inference/frame_conditioning.h).
    std::string conditioning;
    /// Frame-mask models only: the DiT also takes each latent pixel's absolute place (time, row, column) as
    /// three channels after the flags. Wan's DiT knows positions only relatively (RoPE), so without them a
    /// token cannot tell an early frame from a late one in pure noise, and a prompt's direction has nothing
    /// to act on (docs/shapes-world.md). Card field "position_channels": true.
    bool position_channels = false;
    /// What the DiT outputs: "velocity" (Wan: noise − clean) or "x0" (the clean latent; the velocity is
    /// (x_t − x̂0)/σ). The default model predicts x0: its tokens carry 768 pixel values through a 192-wide
    /// transformer, which can represent clean patches (flat colours, edges) but not the noise a velocity holds.
    std::string prediction = "velocity";
    ModelDefaults defaults;
    bool trained = false;
    std::filesystem::path card_path;    ///< where the card was read from
    std::filesystem::path root;         ///< folder that `files` are relative to

    /// Absolute path of a file by role ("" if the card has no such role): files[role] when it exists, else the
    /// first alternative that exists, else files[role].
    std::filesystem::path file(const std::string& role) const;
    /// Every path accepted for a role, absolute: files[role] first, then the alternatives.
    std::vector<std::filesystem::path> accepted_files(const std::string& role) const;
    /// Roles whose files are missing on disk, e.g. {"text_encoder: text_encoders/x.safetensors"}.
    std::vector<std::string> missing_files() const;
    /// The missing pieces, described for a user (what, where it goes, where to get it), the DiT first.
    std::vector<MissingPiece> missing() const;
};

/// Reads a card file; errors name the field.
core::Result<ModelCard> load_model_card(const std::filesystem::path& card_path);

/// Sets one top-level field of the card's JSON file to `json_value` (JSON text), keeping every other field
/// and their order; written atomically. Used to record measured results and training provenance.
core::Result<void> record_card_field(const ModelCard& card, const std::string& field, const std::string& json_value);

/// A checkpoint file inside a store root that no card claims.
struct UnrecognisedFile {
    std::filesystem::path root;      ///< the store root it was found in
    std::filesystem::path relative;  ///< e.g. "diffusion_models/foo.safetensors"
};

/// Every card under the store roots.
class ModelStore {
public:
    /// Roots are searched in order; the first card with an id wins.
    explicit ModelStore(std::vector<std::filesystem::path> roots);
    /// The roots to use by default: $FRAMELOOM_MODELS, ./models, the models/ beside the executable's
    /// build tree, the installed share folder.
    static std::vector<std::filesystem::path> default_roots();

    const std::vector<std::filesystem::path>& roots() const { return roots_; }
    /// All cards found (each id once).
    std::vector<ModelCard> list() const;
    /// Checkpoint files (.safetensors, .pth, .pt, .ckpt, .bin, .gguf, sharded indexes) in the roots' subfolders
    /// that no card lists as a file or an alternative, sorted. Shards belong to a claimed index.
    std::vector<UnrecognisedFile> unrecognised_files() const;
    /// Finds a model by id, alias or card path. "unknown model 'x': run `frameloom models` to list them".
    core::Result<ModelCard> find(const std::string& id_or_path) const;

private:
    std::vector<std::filesystem::path> roots_;
};

}  // namespace fl::inference
