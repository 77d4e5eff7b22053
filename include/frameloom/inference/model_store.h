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
    std::vector<std::string> tasks;     ///< "t2v", ...
    ModelDefaults defaults;
    bool trained = false;
    std::filesystem::path card_path;    ///< where the card was read from
    std::filesystem::path root;         ///< folder that `files` are relative to

    /// Absolute path of a file by role ("" if the card has no such role).
    std::filesystem::path file(const std::string& role) const;
    /// Roles whose files are missing on disk, e.g. {"text_encoder: text_encoders/x.safetensors"}.
    std::vector<std::string> missing_files() const;
};

/// Reads a card file; errors name the field.
core::Result<ModelCard> load_model_card(const std::filesystem::path& card_path);

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
    /// Finds a model by id, alias or card path. "unknown model 'x': run `frameloom models` to list them".
    core::Result<ModelCard> find(const std::string& id_or_path) const;

private:
    std::vector<std::filesystem::path> roots_;
};

}  // namespace fl::inference
