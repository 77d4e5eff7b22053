#pragma once
/// Reads torch.save checkpoints (.pth/.pt): a zip archive holding `<dir>/data.pkl` and raw little-endian
/// storages at `<dir>/data/<key>`. The pickle runs on a restricted machine (pickle_vm.h), so a hostile file is
/// an error, never code execution. Exposes the same name → tensor view as SafeTensorsFile.

#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "frameloom/core/result.h"
#include "frameloom/inference/safetensors.h"
#include "inference/zip_reader.h"

namespace fl::inference {

/// Where one tensor lives inside the archive: a strided view of a storage.
struct PthTensor {
    TensorInfo info;               ///< name, dtype, shape; nbytes = numel * element size; offset unused (0)
    std::vector<int64_t> stride;   ///< in elements
    int64_t storage_offset = 0;    ///< in elements
    const ZipEntry* storage = nullptr;
};

/// An open torch.save archive. Move-only; the file stays mapped while it lives.
class PthFile {
public:
    /// Maps and validates `path`: the zip directory, the pickle (CRC-checked), every tensor's bounds.
    /// `verify_storages` also CRC-checks every storage (reads the whole file once).
    static core::Result<PthFile> open(const std::filesystem::path& path, bool verify_storages = false);
    /// Same over an archive in memory (tests; the bytes must outlive the file).
    static core::Result<PthFile> from_memory(const uint8_t* data, size_t size, bool verify_storages = true);

    const std::string& label() const { return zip_.label(); }
    /// Every tensor, in checkpoint order, nested dict keys joined with '.'.
    const std::vector<TensorInfo>& tensors() const { return infos_; }
    /// The entry with this name, or nullptr.
    const PthTensor* find(const std::string& name) const;
    /// An owned, contiguous CPU copy of the tensor in its stored dtype.
    core::Result<torch::Tensor> read(const std::string& name) const;
    core::Result<torch::Tensor> read(const PthTensor& tensor) const;

private:
    explicit PthFile(ZipReader zip) : zip_(std::move(zip)) {}
    core::Result<void> load(bool verify_storages);
    ZipReader zip_;
    std::vector<PthTensor> tensors_;
    std::vector<TensorInfo> infos_;
    std::map<std::string, size_t> index_;
};

/// True when the file starts with the zip magic "PK\3\4" (a torch.save archive); false for safetensors.
core::Result<bool> is_torch_archive(const std::filesystem::path& path);

/// A weights file of either format, picked by content: safetensors or a torch.save archive.
class WeightsFile {
public:
    const std::string& label() const { return label_; }
    const std::filesystem::path& path() const { return path_; }
    /// Safetensors header metadata; a torch archive has none (empty).
    const std::map<std::string, std::string>& metadata() const;
    /// Every tensor (name, dtype, shape).
    const std::vector<TensorInfo>& tensors() const;
    /// The entry with this name, or nullptr.
    const TensorInfo* find(const std::string& name) const;
    /// An owned CPU copy in its stored dtype (fp8 comes back as f32, as read_tensor does).
    core::Result<torch::Tensor> read(const std::string& name) const;
    core::Result<torch::Tensor> read(const TensorInfo& info) const;
    /// The safetensors file behind this, or nullptr for a .pth.
    const SafeTensorsFile* safetensors() const { return st_.get(); }

private:
    friend core::Result<WeightsFile> open_weights(const std::filesystem::path& path);
    std::string label_;
    std::filesystem::path path_;
    std::unique_ptr<SafeTensorsFile> st_;
    std::unique_ptr<PthFile> pth_;
};

/// Opens `path` as safetensors or as a torch archive (zip magic 'PK'), whatever its extension.
core::Result<WeightsFile> open_weights(const std::filesystem::path& path);

/// load_module (tensor_io.h) for either format: same key rules, same errors.
core::Result<void> load_module(torch::nn::Module& module, const WeightsFile& file, const std::string& prefix = "",
                               bool strict = true);

}  // namespace fl::inference
