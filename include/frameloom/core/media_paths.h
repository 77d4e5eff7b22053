#pragma once
/// Media references of a project: where they point, moving them to another base folder, copying files.

#include <filesystem>
#include <string>
#include <vector>

#include "frameloom/core/project.h"
#include "frameloom/core/result.h"

namespace fl::core {

/// The media folder that belongs to a project file: "<folder>/<stem>.media" ("film.flproj" → "film.media").
std::filesystem::path media_folder_for(const std::filesystem::path& project_file);

/// Absolute, normalised path of a stored reference: relative ones are resolved against `base`.
/// An empty reference stays empty.
std::filesystem::path resolve_media_reference(const std::string& file, const std::filesystem::path& base);

/// The form to store for `absolute` in a project based at `base`: relative (generic separators) when it
/// lies inside `base` (its "<name>.media/" folder included), absolute otherwise.
std::string media_reference_for(const std::filesystem::path& absolute, const std::filesystem::path& base);

/// True when `path` is `folder` itself or lies inside it (lexically, after normalisation).
bool is_inside(const std::filesystem::path& path, const std::filesystem::path& folder);

/// Rebases every media reference (take.file and clip.source.file) from `old_base` to `new_base`:
/// relative references are resolved against `old_base`; results are relative to `new_base` when they
/// lie inside it, absolute otherwise. Both bases must be absolute folders; on error nothing changes.
///   old_base /a, new_base /b:   "a.media/t.mp4" → "/a/a.media/t.mp4";  "/b/b.media/t.mp4" → "b.media/t.mp4"
Result<void> rebase_media_references(Project& project, const std::filesystem::path& old_base,
                                     const std::filesystem::path& new_base);

/// Every media reference of a project: take files, clip files, and conditioning files (keyframes, extended
/// clips, reference images) of shots, takes and queued generations. Empty references are skipped.
std::vector<std::string> media_references(const Project& project);

/// The distinct references whose file does not exist (resolved against `base`), in project order.
std::vector<std::string> missing_media(const Project& project, const std::filesystem::path& base);

/// What relink_missing_media did.
struct RelinkReport {
    int relinked = 0;                  ///< references changed
    std::vector<std::string> missing;  ///< references still missing afterwards (old form, distinct)
};

/// Points every missing reference at a file of the same name found in `folder` (searched with its
/// subfolders). A take with a known sha256 is relinked only to a file with that hash; clips showing a
/// take follow their take. New references are relative to `base` when inside it, absolute otherwise.
/// Existing references are never touched; the project is changed only where a file was found.
///   missing "old.media/t.mp4", found "/new/t.mp4" → "/new/t.mp4" (take, its clips, conditioning alike)
RelinkReport relink_missing_media(Project& project, const std::filesystem::path& base,
                                  const std::filesystem::path& folder);

/// Copies `source` to `target` without ever replacing an existing file: copies to a temp name beside
/// the target, flushes it, then links it into place (fails if `target` appeared meanwhile).
/// Error if `target` exists; the error names the file and the reason in one line.
Result<void> copy_file_no_clobber(const std::filesystem::path& source, const std::filesystem::path& target);

}  // namespace fl::core
