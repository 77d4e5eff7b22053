#include "frameloom/media/clip_frames.h"

#include <algorithm>

#include "frameloom/core/media_paths.h"
#include "frameloom/media/decode.h"

namespace fl::media {

std::string clip_file(const core::Project& project, const core::Clip& clip) {
    if (const core::Shot* shot = project.find_shot(clip.source.shot_id))
        if (const core::Take* take = shot->find_take(clip.source.take_id); take && !take->file.empty())
            return take->file;
    return clip.source.file;
}

core::Result<core::Video> ClipFrames::of(const core::Project& project, const core::Clip& clip) {
    const std::string file = clip_file(project, clip);
    if (file.empty()) return core::fail("clip " + clip.id + " has no media: generate its shot or relink it");
    const std::filesystem::path path = core::resolve_media_reference(file, base_);
    auto it = decoded_.find(path);
    if (it == decoded_.end()) {
        auto video = decode_video(path);
        if (!video) return core::fail("clip " + clip.id + ": " + video.message());
        it = decoded_.emplace(path, std::move(*video)).first;
    }
    const core::Video& all = it->second;
    const int64_t n = all.frame_count();
    if (clip.in >= n)
        return core::fail("clip " + clip.id + " starts at source frame " + std::to_string(clip.in) + " but " +
                          path.string() + " has " + std::to_string(n) + " frames");
    core::Video out;
    out.fps = all.fps;
    out.frames.assign(all.frames.begin() + clip.in, all.frames.begin() + std::min(clip.out, n));
    return out;
}

}  // namespace fl::media
