#pragma once
/// Write-to-temp-then-rename, so a failed write never leaves a half file at the target path.

#include <filesystem>
#include <string_view>

#include "frameloom/core/result.h"

namespace fl::core {

/// Writes `bytes` to `target` atomically: temp file beside it, fsync, rename, fsync the folder.
Result<void> write_file_atomically(const std::filesystem::path& target, std::string_view bytes);

/// A temporary path beside `target` for a writer that needs a file name (e.g. a muxer).
/// Commit with commit(); if destroyed without commit, the temp file is removed.
class PendingFile {
public:
    /// Checks the target's folder exists and is writable; the error says so in one line.
    static Result<PendingFile> create(const std::filesystem::path& target);
    PendingFile(PendingFile&& other) noexcept;
    PendingFile& operator=(PendingFile&& other) noexcept;
    PendingFile(const PendingFile&) = delete;
    PendingFile& operator=(const PendingFile&) = delete;
    ~PendingFile();

    const std::filesystem::path& temp_path() const { return temp_; }
    const std::filesystem::path& target() const { return target_; }
    /// fsyncs the temp file, renames it onto the target, fsyncs the folder.
    Result<void> commit();

private:
    PendingFile(std::filesystem::path target, std::filesystem::path temp);
    std::filesystem::path target_;
    std::filesystem::path temp_;
    bool committed_ = false;
};

/// A whole file's bytes; error "cannot read <path>: <reason>" if it cannot be opened or read.
Result<std::string> read_file(const std::filesystem::path& path);

/// Hex SHA-256 of a file's bytes; error if it cannot be read.
Result<std::string> sha256_file(const std::filesystem::path& path);

/// Hex SHA-256 of bytes.
std::string sha256_hex(std::string_view bytes);

}  // namespace fl::core
