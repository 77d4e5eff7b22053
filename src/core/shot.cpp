#include "frameloom/core/shot.h"

namespace fl::core {

void Conditioning::for_each_file(const std::function<void(std::string&)>& visit) {
    visit(first_frame);
    visit(last_frame);
    visit(extend);
    for (std::string& r : references) visit(r);
    visit(video);
    visit(mask);
}

Result<void> GenerationParams::validate() const {
    // Continuing a clip may go on without words; everything else needs a prompt.
    if (prompt.empty() && conditioning.extend.empty()) return fail("prompt is empty: describe the shot, e.g. --prompt \"a red circle moving left\"");
    if (width <= 0 || height <= 0)
        return fail("size " + std::to_string(width) + "x" + std::to_string(height) + " is invalid: use e.g. 64x64");
    if (width % 16 != 0 || height % 16 != 0)
        return fail("size " + std::to_string(width) + "x" + std::to_string(height) +
                    " is not divisible by 16: use multiples of 16, e.g. 64x64 or 832x480");
    if (width > 4096 || height > 4096)
        return fail("size " + std::to_string(width) + "x" + std::to_string(height) + " is too large: at most 4096x4096");
    if (frames <= 0) return fail("frames must be at least 1 (got " + std::to_string(frames) + ")");
    if (frames > 10000) return fail("frames must be at most 10000 (got " + std::to_string(frames) + ")");
    if (steps <= 0 || steps > 1000) return fail("steps must be between 1 and 1000 (got " + std::to_string(steps) + ")");
    if (!(guidance >= 0.0 && guidance <= 100.0))
        return fail("guidance must be between 0 and 100 (got " + std::to_string(guidance) + ")");
    if (!(shift > 0.0 && shift <= 100.0)) return fail("shift must be above 0 and at most 100 (got " + std::to_string(shift) + ")");
    if (fps.num <= 0 || fps.den <= 0) return fail("fps must be positive (got " + to_string(fps) + ")");
    if (sampler != "euler" && sampler != "unipc" && sampler != "dpm++")
        return fail("sampler '" + sampler + "' is unknown: use euler, unipc or dpm++");
    if (model.empty()) return fail("model is empty: use --model default or a model id from `frameloom models`");
    if (conditioning.extend_frames < 0 || conditioning.extend_frames > 100000)
        return fail("the extension length must be 0 to 100000 frames (got " + std::to_string(conditioning.extend_frames) + ")");
    if (conditioning.extend_frames > 0 && conditioning.extend.empty())
        return fail("an extension length needs a clip to extend: add --extend CLIP");
    if (!conditioning.mask.empty() && conditioning.video.empty())
        return fail("--mask needs the clip it masks: add --video CLIP");
    if (!conditioning.video.empty() && (!conditioning.extend.empty() || !conditioning.first_frame.empty() ||
                                        !conditioning.last_frame.empty()))
        return fail("--video gives every frame of the shot: remove --extend, --first-frame and --last-frame");
    return ok();
}

Result<void> GenerationParams::check_invariants() const {
    if (steps <= 0) return fail("steps must be at least 1 (got " + std::to_string(steps) + ")");
    if (width <= 0 || height <= 0)
        return fail("size " + std::to_string(width) + "x" + std::to_string(height) + " is invalid: width and height must be positive");
    if (frames <= 0) return fail("frames must be at least 1 (got " + std::to_string(frames) + ")");
    if (fps.num <= 0 || fps.den <= 0) return fail("fps must be positive (got " + to_string(fps) + ")");
    return ok();
}

const Take* Shot::find_take(const std::string& take_id) const {
    for (const Take& t : takes)
        if (t.id == take_id) return &t;
    return nullptr;
}

Result<void> Take::check_invariants() const {
    if (id.empty()) return fail("take has an empty id");
    if (file.empty()) return fail("take " + id + " has no file");
    if (!sha256.empty() && sha256.size() != 64) return fail("take " + id + " has a malformed sha256");
    return ok();
}

Result<void> Shot::check_invariants() const {
    if (id.empty()) return fail("shot has an empty id");
    for (size_t i = 0; i < takes.size(); ++i) {
        FL_TRY(takes[i].check_invariants());
        for (size_t j = 0; j < i; ++j)
            if (takes[j].id == takes[i].id) return fail("shot " + id + " has two takes with id " + takes[i].id);
    }
    if (!selected_take.empty() && !find_take(selected_take))
        return fail("shot " + id + " selects take " + selected_take + ", which it does not have");
    return ok();
}

}  // namespace fl::core
