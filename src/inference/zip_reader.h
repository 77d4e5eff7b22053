#pragma once
/// A read-only, memory-mapped zip reader for torch.save archives: stored (uncompressed) entries, ZIP64,
/// bounds-checked central directory. Anything malformed, compressed or lying about sizes is an error.

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "frameloom/core/result.h"

namespace fl::inference {

/// One stored entry of the archive.
struct ZipEntry {
    std::string name;
    uint64_t data_offset = 0;  ///< byte offset of the entry's data in the file
    uint64_t size = 0;         ///< bytes (stored: compressed == uncompressed)
    uint32_t crc32 = 0;        ///< CRC-32 from the central directory
};

/// CRC-32 (zip/IEEE polynomial) of `size` bytes, continuing from `crc` (0 to start).
uint32_t crc32_update(uint32_t crc, const uint8_t* data, size_t size);

/// An open, memory-mapped zip archive. Move-only; unmapped on destruction.
class ZipReader {
public:
    /// Maps `path` and reads its central directory.
    static core::Result<ZipReader> open(const std::filesystem::path& path);
    /// Reads an archive held in memory (tests; the bytes must outlive the reader).
    static core::Result<ZipReader> from_memory(const uint8_t* data, size_t size, std::string label);

    ZipReader(ZipReader&&) noexcept;
    ZipReader& operator=(ZipReader&&) noexcept;
    ~ZipReader();

    const std::string& label() const { return label_; }
    const std::map<std::string, ZipEntry>& entries() const { return entries_; }
    /// The entry with this name, or nullptr.
    const ZipEntry* find(const std::string& name) const;
    /// The entry's first byte (valid while this reader lives).
    const uint8_t* data(const ZipEntry& entry) const { return base_ + entry.data_offset; }
    /// Checks the entry's bytes against its CRC-32.
    core::Result<void> verify(const ZipEntry& entry) const;

private:
    ZipReader() = default;
    core::Result<void> parse();
    std::string label_;
    std::map<std::string, ZipEntry> entries_;
    const uint8_t* base_ = nullptr;
    size_t size_ = 0;
    bool mapped_ = false;
};

}  // namespace fl::inference
