#pragma once
/// The pictures a timeline clip shows, decoded from its media: for measuring clips and cuts.

#include <filesystem>
#include <map>
#include <string>

#include "frameloom/core/frame.h"
#include "frameloom/core/project.h"
#include "frameloom/core/result.h"

namespace fl::media {

/// The file a clip plays: its take's file while the take exists (it may have been relinked), else its own.
std::string clip_file(const core::Project& project, const core::Clip& clip);

/// Frames [clip.in, clip.out) of clips' media, each file decoded once (kept for the object's lifetime).
class ClipFrames {
public:
    /// `base` is the folder relative media references are resolved against (the project file's folder).
    explicit ClipFrames(std::filesystem::path base) : base_(std::move(base)) {}

    /// The clip's frames in source order, at the media's own rate; an error names the clip and the file.
    core::Result<core::Video> of(const core::Project& project, const core::Clip& clip);

private:
    std::filesystem::path base_;
    std::map<std::filesystem::path, core::Video> decoded_;
};

}  // namespace fl::media
