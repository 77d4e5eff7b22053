#pragma once
/// The `.flproj` file: JSON with a schema version, saved atomically, loaded with precise errors.

#include <filesystem>
#include <string>

#include "frameloom/core/project.h"
#include "frameloom/core/result.h"

namespace fl::core {

/// Serialises a project to its JSON text (pretty-printed, stable key order).
std::string project_to_json(const Project& project);

/// Parses JSON text; errors name the field path and the problem, e.g.
/// "shots[2].params.steps: expected a positive integer, found -3".
Result<Project> project_from_json(const std::string& text);

/// Writes the project atomically (temp file in the same folder, fsync, rename).
Result<void> save_project(const Project& project, const std::filesystem::path& path);

/// Reads and validates a project file; never modifies the file.
Result<Project> load_project(const std::filesystem::path& path);

}  // namespace fl::core
