#pragma once
/// A memory-mapped safetensors reader: 8-byte little-endian header length, JSON header, raw data.
/// Any header that is truncated, malformed or lies about sizes/offsets is a clear error, never a crash.

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "frameloom/core/result.h"

namespace fl::inference {

/// Element types the reader understands.
enum class DType { F32, F16, BF16, F64, I64, I32, I16, I8, U8, Bool, F8_E4M3, F8_E5M2 };

/// "F32", "BF16", ... as written in safetensors headers.
const char* to_string(DType dtype);
/// Bytes per element.
size_t dtype_size(DType dtype);

/// One tensor's entry in the header.
struct TensorInfo {
    std::string name;
    DType dtype = DType::F32;
    std::vector<int64_t> shape;
    uint64_t offset = 0;  ///< byte offset from the start of the data section
    uint64_t nbytes = 0;

    int64_t numel() const;
};

/// An open, memory-mapped safetensors file. Move-only; unmapped on destruction.
class SafeTensorsFile {
public:
    /// Maps and validates the file. Errors read like
    /// "model file truncated: <path> header says 1.2 GB of data, file holds 0.4 GB".
    static core::Result<SafeTensorsFile> open(const std::filesystem::path& path);

    SafeTensorsFile(SafeTensorsFile&&) noexcept;
    SafeTensorsFile& operator=(SafeTensorsFile&&) noexcept;
    ~SafeTensorsFile();

    const std::filesystem::path& path() const { return path_; }
    const std::vector<TensorInfo>& tensors() const { return tensors_; }
    const std::map<std::string, std::string>& metadata() const { return metadata_; }
    /// The entry with this name, or nullptr.
    const TensorInfo* find(const std::string& name) const;
    /// Pointer to the tensor's first byte inside the mapping (valid while this object lives).
    const uint8_t* data(const TensorInfo& info) const;

private:
    SafeTensorsFile() = default;
    std::filesystem::path path_;
    std::vector<TensorInfo> tensors_;
    std::map<std::string, size_t> index_;
    std::map<std::string, std::string> metadata_;
    const uint8_t* map_ = nullptr;
    size_t map_size_ = 0;
    size_t data_start_ = 0;
};

/// A tensor to write: raw little-endian bytes of the given dtype and shape.
struct TensorBlob {
    std::string name;
    DType dtype = DType::F32;
    std::vector<int64_t> shape;
    std::vector<uint8_t> bytes;
};

/// Writes a safetensors file atomically (header sorted by name, 8-byte aligned data).
core::Result<void> write_safetensors(const std::filesystem::path& path, const std::vector<TensorBlob>& tensors,
                                     const std::map<std::string, std::string>& metadata = {});

}  // namespace fl::inference
