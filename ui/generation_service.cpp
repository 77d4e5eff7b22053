#include "ui/generation_service.h"

#include <chrono>
#include <ctime>
#include <memory>
#include <optional>
#include <system_error>

#include "frameloom/consistency/extension.h"
#include "frameloom/core/atomic_file.h"
#include "frameloom/core/cancel.h"
#include "frameloom/media/conditioning.h"
#include "frameloom/media/encode.h"
#include "ui/take_scores.h"

namespace fl::studio {

namespace fs = std::filesystem;

namespace {
std::string utc_now_iso8601() {
    const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&now, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return text;
}
}  // namespace

inference::StepPreviewFn throttle_previews(inference::StepPreviewFn sink,
                                           std::chrono::milliseconds interval) {
    if (!sink) return {};
    using Clock = std::chrono::steady_clock;
    // The request lives on one worker thread, so the last time needs no lock.
    auto last = std::make_shared<std::optional<Clock::time_point>>();
    return [sink = std::move(sink), interval, last](int step, int steps, const core::Video& preview) {
        const auto now = Clock::now();
        if (*last && step < steps && now - **last < interval) return;
        *last = now;
        sink(step, steps, preview);
    };
}

GenerationService::GenerationService(inference::ModelStore store, inference::DevicePolicy policy)
    : store_(std::move(store)), policy_(policy) {}

size_t GenerationService::cached_models() const {
    std::lock_guard lock(mutex_);
    return generators_.size();
}

core::Result<inference::Generator*> GenerationService::generator_for(const std::string& model,
                                                                     core::JobContext& job) {
    auto card = store_.find(model.empty() ? std::string("default") : model);
    if (!card) return card.error();
    std::lock_guard lock(mutex_);
    auto it = generators_.find(card->id);
    if (it != generators_.end()) return it->second.get();
    job.progress(0, 0, "loading " + (card->name.empty() ? card->id : card->name));
    auto loaded = inference::Generator::load(*card, policy_);
    if (!loaded) return loaded.error();
    inference::Generator* generator = loaded.value().get();
    generators_.emplace(card->id, std::move(loaded).value());
    return generator;
}

core::Result<GeneratedTake> GenerationService::run(const GenerationSpec& spec, core::JobContext& job) {
    FL_TRY(spec.params.validate());
    const auto started = std::chrono::steady_clock::now();
    auto generator = generator_for(spec.params.model, job);
    if (!generator) return generator.error();
    if (job.cancelled()) return core::fail(core::kCancelledMessage);

    auto media = media::load_conditioning(spec.params.conditioning, spec.media_base);
    if (!media) return media.error();
    const std::vector<core::Frame> references = media->references;  // the request takes the media
    inference::GenerateRequest request{spec.params, job.progress_fn(), job.cancel_fn(), std::move(*media),
                                       throttle_previews(spec.step_preview, kPreviewInterval)};
    auto video = (*generator)->generate(request);
    if (!video) return video.error();
    if (job.cancelled()) return core::fail(core::kCancelledMessage);
    if (!spec.params.conditioning.extend.empty() && spec.correct_extension &&
        !request.media.extend_source.frames.empty()) {
        // The consistency stage after each extension, so chains of extensions do not drift in colour: the
        // continuation (not the kept source) is matched to the source.
        job.progress(0, 0, "correcting the continuation");
        const core::Video& source = request.media.extend_source;
        const size_t kept =
            request.media.keep_source ? std::min(source.frames.size(), video->frames.size()) : 0;
        core::Video continuation;
        continuation.fps = video->fps;
        continuation.frames.assign(video->frames.begin() + static_cast<std::ptrdiff_t>(kept),
                                   video->frames.end());
        if (!continuation.frames.empty()) {
            auto corrected = consistency::correct_extension(source, source, continuation);
            if (!corrected) return core::fail("correcting the extension: " + corrected.message());
            video->frames.resize(kept);
            for (auto& frame : corrected->frames) video->frames.push_back(std::move(frame));
        }
    }

    std::error_code ec;
    fs::create_directories(spec.target.parent_path(), ec);
    if (ec)
        return core::fail("cannot create folder " + spec.target.parent_path().string() + ": " + ec.message());

    media::EncodeOptions options;
    options.progress = [&job](int64_t done, int64_t total, const std::string&) {
        job.progress(done, total, "encoding " + std::to_string(done) + "/" + std::to_string(total));
    };
    options.cancel = job.cancel_fn();
    FL_TRY(media::encode_mp4(*video, spec.target, options));

    auto sha = core::sha256_file(spec.target);
    if (!sha) {
        fs::remove(spec.target, ec);
        return sha.error();
    }

    GeneratedTake out;
    out.take.params = spec.params;
    out.take.params.model = (*generator)->card().id;  // the take records the model actually used
    out.take.file = spec.target.string();
    out.take.sha256 = std::move(sha).value();
    out.take.created = utc_now_iso8601();
    out.take.generation_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    out.frame_count = video->frame_count();
    job.progress(0, 0, "measuring consistency");
    // A take that extends a kept source joins the two after the source's frames: its seam is scored too.
    const int64_t seam_at = request.media.keep_source ? request.media.extend_source.frame_count() : 0;
    if (auto scores = measure_take(*video, references, seam_at)) {
        out.scores = std::move(scores).value();
    } else {
        out.scores_error = scores.message();
    }
    return out;
}

}  // namespace fl::studio
