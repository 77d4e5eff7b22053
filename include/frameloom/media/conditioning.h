#pragma once
/// Reads the files a generation is conditioned on (images and a clip to extend) into pixels.

#include <filesystem>

#include "frameloom/core/conditioning.h"
#include "frameloom/core/result.h"
#include "frameloom/core/shot.h"

namespace fl::media {

/// Decodes every file `conditioning` names; relative paths are resolved against `base` (a project's
/// folder, or the working directory). Errors name the option and the file: "--first-frame x.png: ...".
core::Result<core::ConditioningMedia> load_conditioning(const core::Conditioning& conditioning,
                                                        const std::filesystem::path& base = {});

}  // namespace fl::media
