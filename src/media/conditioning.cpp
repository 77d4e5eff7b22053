#include "frameloom/media/conditioning.h"

#include "frameloom/media/decode.h"

namespace fl::media {
namespace fs = std::filesystem;

core::Result<core::ConditioningMedia> load_conditioning(const core::Conditioning& c, const fs::path& base) {
    const auto resolve = [&](const std::string& file) {
        const fs::path path(file);
        return path.is_relative() && !base.empty() ? base / path : path;
    };
    const auto image = [&](const char* option, const std::string& file) -> core::Result<core::Frame> {
        auto frame = decode_image(resolve(file));
        if (!frame) return core::fail(std::string(option) + " " + file + ": " + frame.message());
        return frame;
    };
    core::ConditioningMedia media;
    if (!c.first_frame.empty()) {
        auto frame = image("--first-frame", c.first_frame);
        if (!frame) return frame.error();
        media.first_frame = std::move(*frame);
    }
    if (!c.last_frame.empty()) {
        auto frame = image("--last-frame", c.last_frame);
        if (!frame) return frame.error();
        media.last_frame = std::move(*frame);
    }
    for (const auto& file : c.references) {
        auto frame = image("--reference", file);
        if (!frame) return frame.error();
        media.references.push_back(std::move(*frame));
    }
    if (!c.extend.empty()) {
        auto video = decode_video(resolve(c.extend));
        if (!video) return core::fail("--extend " + c.extend + ": " + video.message());
        if (video->frames.empty()) return core::fail("--extend " + c.extend + ": the clip has no frames");
        media.extend_source = std::move(*video);
    }
    if (!c.video.empty()) {
        auto video = decode_video(resolve(c.video));
        if (!video) return core::fail("--video " + c.video + ": " + video.message());
        if (video->frames.empty()) return core::fail("--video " + c.video + ": the clip has no frames");
        media.video = std::move(*video);
    }
    if (!c.mask.empty()) {
        // A still decodes as one frame, which masks every frame; a clip masks frame by frame.
        auto video = decode_video(resolve(c.mask));
        if (!video) return core::fail("--mask " + c.mask + ": " + video.message());
        if (video->frames.empty()) return core::fail("--mask " + c.mask + ": the clip has no frames");
        media.mask = std::move(video->frames);
    }
    media.keep_source = c.keep_source;
    media.extend_frames = c.extend_frames;
    return media;
}

}  // namespace fl::media
