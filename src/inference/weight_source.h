#pragma once
/// One name → tensor view over the layouts checkpoints come in: a single safetensors file or torch.save
/// archive (`.pth`), a sharded checkpoint (`*.safetensors.index.json` or a folder of
/// `*-0000k-of-0000N.safetensors`), with a key prefix stripped and/or keys renamed, and ComfyUI "scaled" fp8
/// files (dequantised at read).
/// Inference-internal: torch never leaves this module.

#include <torch/torch.h>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "frameloom/core/result.h"
#include "frameloom/inference/safetensors.h"
#include "inference/pth_reader.h"

namespace fl::inference {

/// Successive substring renames (each applied to the result of the previous), as conversion scripts do.
using KeyRenames = std::vector<std::pair<std::string, std::string>>;

/// Applies `renames` in order to `key` (every occurrence of each `from`).
std::string apply_renames(std::string key, const KeyRenames& renames);

/// A checkpoint seen as one set of named tensors, however many files hold it. Copies share the mappings.
class WeightSource {
public:
    /// One tensor as the source presents it.
    struct Entry {
        size_t file = 0;                    ///< index into files()
        const TensorInfo* info = nullptr;   ///< the stored tensor
        size_t scale_file = 0;              ///< index into files() of `scale`
        const TensorInfo* scale = nullptr;  ///< fp8 "scaled" files: the scalar to multiply by, else null
    };

    /// Opens a weights file (safetensors or a torch.save archive, told apart by content), a
    /// `*.safetensors.index.json` (its `weight_map` names the shards, which must hold exactly the keys it
    /// lists), or a folder (its index.json, else its `*-k-of-N.safetensors` shards, else its one
    /// `.safetensors`, else its one `.pth`). Errors name the file and the problem.
    static core::Result<WeightSource> open(const std::filesystem::path& path);

    /// Keeps only the keys under `prefix`, without it (a ComfyUI file may pack other models beside the DiT).
    void strip_prefix(const std::string& prefix);
    /// When no key is `anchor` but one ends with ".<anchor>", strips what precedes it from every key (as
    /// strip_prefix): how repackaged files (ComfyUI's `model.diffusion_model.`, `text_model.`, …) are read.
    void strip_prefix_before(const std::string& anchor);
    /// True when some key is `tail` or ends with ".<tail>" (layout detection under any prefix).
    bool has_key_ending(const std::string& tail) const;
    /// Forgets the keys `drop` says yes to (copies, tokenizer blobs and other tensors no module holds).
    void drop_if(const std::function<bool(const std::string&)>& drop);
    /// Renames every key by `renames`; two stored keys landing on one name is an error.
    core::Result<void> rename(const KeyRenames& renames);

    /// The entry presented under `name`, or nullptr.
    const Entry* find(const std::string& name) const;
    /// Presented names → entries, sorted.
    const std::map<std::string, Entry>& entries() const { return entries_; }
    /// Presented names → shapes (for config detection from shapes).
    std::map<std::string, std::vector<int64_t>> shapes() const;
    /// Header metadata of every file (the first file's value wins on a clash).
    const std::map<std::string, std::string>& metadata() const { return metadata_; }
    /// Adds a metadata entry the files' headers lack (a header's own value wins).
    void add_metadata(const std::string& key, std::string value) { metadata_.emplace(key, std::move(value)); }
    /// The files behind this source, in shard order.
    const std::vector<WeightsFile>& files() const { return *files_; }
    /// What was opened (the file, index or folder), for messages.
    const std::filesystem::path& path() const { return path_; }
    /// The file holding `entry`.
    const std::filesystem::path& file_of(const Entry& entry) const { return (*files_)[entry.file].path(); }

    /// An owned CPU tensor: stored dtype, except fp8 (f32) and scaled tensors (f32, times the scale).
    core::Result<torch::Tensor> read(const Entry& entry) const;
    /// Same, by name; "tensor 'x' not found in <path>" when absent.
    core::Result<torch::Tensor> read(const std::string& name) const;

private:
    WeightSource() = default;
    core::Result<void> add_file(const std::filesystem::path& path);
    void attach_scales();

    std::filesystem::path path_;
    std::shared_ptr<std::vector<WeightsFile>> files_ = std::make_shared<std::vector<WeightsFile>>();
    std::map<std::string, Entry> entries_;
    std::map<std::string, std::string> metadata_;
};

/// Copies every parameter and buffer of `module` from `source` (key = parameter name), converting dtype to
/// the parameter's. Missing keys or shape mismatches are errors naming the key and the file; keys the
/// module lacks are errors when `strict`.
core::Result<void> load_module(torch::nn::Module& module, const WeightSource& source, bool strict = true);

}  // namespace fl::inference
