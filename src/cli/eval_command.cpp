// frameloom eval shapes: generates clips of held-out and training combinations and lets the judge name
// what it sees, then prints accuracy tables.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/generation_args.h"
#include "cli/progress_bar.h"
#include "frameloom/consistency/shapes_judge.h"
#include "frameloom/core/atomic_file.h"
#include "frameloom/core/shapes_world.h"
#include "frameloom/inference/generator.h"
#include "frameloom/inference/train.h"
#include "frameloom/media/encode.h"

namespace fl::cli {
namespace shapes = core::shapes;

namespace {

struct Tally {
    int clips = 0, colour = 0, shape = 0, motion = 0, background = 0;
    void add(const shapes::Scene& s, const consistency::ShapesJudgement& j) {
        ++clips;
        colour += j.object_found && j.colour == s.colour;
        shape += j.object_found && j.shape == s.shape;
        motion += j.object_found && j.motion == s.motion;
        background += j.background == s.background;
    }
};

double pct(int n, int of) { return of ? 100.0 * n / of : 0.0; }

/// PSNR of two RGB8 frames of one size, capped at 99 dB (identical frames).
double psnr(const core::Frame& a, const core::Frame& b) {
    double se = 0.0;
    for (size_t i = 0; i < a.rgb.size(); ++i) {
        const double d = static_cast<double>(a.rgb[i]) - static_cast<double>(b.rgb[i]);
        se += d * d;
    }
    const double mse = se / static_cast<double>(std::max<size_t>(1, a.rgb.size()));
    return mse <= 0.0 ? 99.0 : std::min(99.0, 10.0 * std::log10(255.0 * 255.0 / mse));
}

double mean(const std::vector<double>& v) {
    return v.empty() ? 0.0 : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

double percentile(std::vector<double> v, double q) {
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    return v[static_cast<size_t>(std::clamp(q, 0.0, 1.0) * static_cast<double>(v.size() - 1) + 0.5)];
}

/// The last frame of the source in which the object was found, with its per-frame velocity (pixels).
struct SourceEnd {
    bool found = false;
    double x = 0, y = 0, vx = 0, vy = 0;
};

SourceEnd source_end(const consistency::ShapesJudgement& j) {
    SourceEnd e;
    const auto& t = j.track;
    for (size_t i = t.size(); i-- > 1;) {
        if (t[i].found && t[i - 1].found) {
            e = {true, t[i].x, t[i].y, t[i].x - t[i - 1].x, t[i].y - t[i - 1].y};
            // Velocity over the longest found run up to i (smoother than one step).
            size_t first = i;
            while (first > 0 && t[first - 1].found) --first;
            if (i > first) {
                e.vx = (t[i].x - t[first].x) / static_cast<double>(i - first);
                e.vy = (t[i].y - t[first].y) / static_cast<double>(i - first);
            }
            return e;
        }
    }
    return e;
}

using Json = nlohmann::ordered_json;

Json tally_json(const Tally& t) {
    return {{"clips", t.clips},
            {"colour", pct(t.colour, t.clips)},
            {"shape", pct(t.shape, t.clips)},
            {"motion", pct(t.motion, t.clips)},
            {"background", pct(t.background, t.clips)}};
}

/// frameloom eval words: which kinds of word the model listens to (inference::measure_word_sensitivity).
int run_eval_words(const std::vector<std::string>& argv) {
    if (wants_help(argv)) {
        std::puts(
            "usage: frameloom eval words [--model ID] [--clips N] [--seed N] [--first-frame] [--device D]\n"
            "                            [--threads N] [--json FILE]\n\n"
            "Which words of the prompt the model listens to. Renders N clips of moving objects and, at "
            "noise\n"
            "levels from 1 (pure noise) down to 0.4, measures the error of the model's prediction of the "
            "clean\n"
            "clip with the right prompt and with one word changed: another colour, another shape, the "
            "opposite\n"
            "motion, another background, or no prompt. A word the model uses costs error when changed; one "
            "it\n"
            "ignores costs nothing. The same noise serves every prompt. Default: 24 clips, seed 1.\n\n"
            "  --first-frame  give each clip's first frame (image-to-video) and measure the other frames: "
            "the\n"
            "                 start is then known, and only the motion word says where the object goes");
        return 0;
    }
    auto args = Args::parse(argv, {"--model", "--clips", "--seed", "--device", "--threads", "--json"},
                            {"--first-frame"}, "eval words");
    if (!args) return report_error(args.message(), 2);
    auto clips = args->get_int("--clips", 24);
    auto seed = args->get_int("--seed", 1);
    for (const auto* r : {&clips, &seed})
        if (!*r) return report_error(r->message(), 2);
    if (*clips < 1 || *clips > 1000) return report_error("--clips must be from 1 to 1000", 2);
    if (*seed < 0) return report_error("--seed must not be negative", 2);
    auto policy = policy_from_args(*args);
    if (!policy) return report_error(policy.message(), 2);
    const inference::ModelStore store(inference::ModelStore::default_roots());
    auto card = store.find(args->get("--model").value_or("default"));
    if (!card) return report_error(card.message(), 2);
    const std::vector<double> sigmas{1.0, 0.98, 0.95, 0.9, 0.8, 0.6, 0.4};
    const bool first_frame = args->has("--first-frame");
    auto rows = inference::measure_word_sensitivity(*card, static_cast<int>(*clips), sigmas,
                                                    static_cast<uint64_t>(*seed), *policy, first_frame);
    if (!rows) return report_error(rows.message());
    std::printf(
        "model %s: error of the predicted clean clip (mean squared, latent units) over %d clips of moving "
        "objects, %s; in brackets the change against the right prompt\n\n",
        card->id.c_str(), static_cast<int>(*clips),
        first_frame ? "first frame given (error of frames 1 on)" : "text only");
    std::puts(
        "| noise | right prompt | colour changed | shape changed | motion reversed | background changed | "
        "no prompt |\n|---|---|---|---|---|---|---|");
    Json json = Json::array();
    for (const auto& r : *rows) {
        const auto cell = [&](double v) {
            char text[48];
            std::snprintf(text, sizeof text, "%.5f (%+.1f%%)", v, 100.0 * (v - r.correct) / r.correct);
            return std::string(text);
        };
        std::printf("| %.2f | %.5f | %s | %s | %s | %s | %s |\n", r.sigma, r.correct, cell(r.colour).c_str(),
                    cell(r.shape).c_str(), cell(r.motion).c_str(), cell(r.background).c_str(),
                    cell(r.empty).c_str());
        json.push_back({{"sigma", r.sigma},
                        {"right", r.correct},
                        {"colour", r.colour},
                        {"shape", r.shape},
                        {"motion", r.motion},
                        {"background", r.background},
                        {"empty", r.empty}});
    }
    if (auto path = args->get("--json")) {
        Json report = {{"model", card->id},
                       {"clips", *clips},
                       {"seed", *seed},
                       {"first_frame", first_frame},
                       {"rows", json}};
        if (auto w = core::write_file_atomically(*path, report.dump(2) + "\n"); !w)
            return report_error(w.message());
    }
    return 0;
}

}  // namespace

int run_eval(const std::vector<std::string>& argv) {
    if (argv.empty() || (argv[0] != "consistency" && argv[0] != "words" && wants_help(argv))) {
        std::puts(
            "usage: frameloom eval shapes|words|consistency ...   (frameloom eval words|consistency --help)\n"
            "       frameloom eval shapes [--model ID] [--clips N] [--steps N] [--guidance F] [--shift F] "
            "[--sampler S]\n"
            "                             [--seed N] [--save DIR] [--json FILE] [--record] [--threads N]\n\n"
            "Generates N clips of held-out combinations and N of training combinations (canonical prompts "
            "and\n"
            "paraphrases), lets the OpenCV judge name each clip's colour, shape, motion and background, and\n"
            "prints the accuracy of each. For models with conditioning, also N held-out clips each of: first "
            "frame\n"
            "given (PSNR of frame 0), keyframes (PSNR of the last frame), extension of a rendered clip "
            "(position\n"
            "jump at the seam, colour and shape kept) and a reference image with \"the object ...\" prompts "
            "(colour\n"
            "and shape taken from the reference). --save keeps the generated MP4s; --json writes the "
            "figures;\n"
            "--record stores them in the model card's \"results\". Sampling settings default to the "
            "card's.");
        return argv.empty() ? 2 : 0;
    }
    if (argv[0] == "consistency") return run_eval_consistency({argv.begin() + 1, argv.end()});
    if (argv[0] == "words") return run_eval_words({argv.begin() + 1, argv.end()});
    if (argv[0] != "shapes")
        return report_error("unknown evaluation '" + argv[0] +
                                "': use `frameloom eval shapes`, `eval words` or `eval consistency`",
                            2);
    auto args = Args::parse({argv.begin() + 1, argv.end()},
                            {"--model", "--clips", "--steps", "--guidance", "--shift", "--sampler", "--seed",
                             "--save", "--json", "--device", "--threads"},
                            {"--record"}, "eval");
    if (!args) return report_error(args.message(), 2);
    auto clips = args->get_int("--clips", 40);
    auto seed = args->get_int("--seed", 1);
    if (!clips || !seed) return report_error(!clips ? clips.message() : seed.message(), 2);
    if (*clips < 1) return report_error("--clips must be at least 1", 2);
    const inference::ModelStore store(inference::ModelStore::default_roots());
    auto card = store.find(args->get("--model").value_or("default"));
    if (!card) return report_error(card.message(), 2);
    auto params = params_from_args(*args, *card, /*validate=*/false);
    if (!params) return report_error(params.message(), 2);
    core::GenerationParams base = *params;
    base.prompt = "a red circle moving left on a black background";  // each clip sets its own
    if (auto valid = base.validate(); !valid) return report_error(valid.message(), 2);
    auto policy = policy_from_args(*args);
    if (!policy) return report_error(policy.message(), 2);
    const auto save = args->get("--save");
    if (save) std::filesystem::create_directories(*save);
    const auto has_task = [&](const char* task) {
        return std::find(card->tasks.begin(), card->tasks.end(), task) != card->tasks.end();
    };
    const bool conditioned = card->conditioning == "frame-mask";

    auto generator = inference::Generator::load(*card, *policy);
    if (!generator) return report_error(generator.message());
    std::mt19937_64 rng(static_cast<uint64_t>(*seed));
    const int n = static_cast<int>(*clips);
    const int modes = conditioned ? 4 : 0;
    const int total = n * 2 + n * modes;
    ProgressBar bar("evaluating");
    int done = 0, index = 0;
    std::string failure;
    // Generates one clip; saves it when asked. Empty optional on error (failure holds the message).
    const auto run = [&](inference::GenerateRequest request,
                         const char* label) -> std::optional<core::Video> {
        request.params.seed = static_cast<uint64_t>(*seed) * 1000 + static_cast<uint64_t>(index);
        auto video = (*generator)->generate(request);
        if (!video) {
            failure = video.message();
            return std::nullopt;
        }
        if (save) {
            char name[64];
            std::snprintf(name, sizeof name, "%03d-%s.mp4", index, label);
            if (auto w = media::encode_mp4(*video, std::filesystem::path(*save) / name); !w) {
                failure = w.message();
                return std::nullopt;
            }
        }
        ++index;
        bar.update(++done, total, label);
        return std::move(*video);
    };
    const auto judge = [&](const core::Video& video) { return consistency::judge_shapes(video); };
    const auto rendered = [&](const shapes::Scene& s) {
        return shapes::render(s, base.width, base.height, base.frames, base.fps);
    };

    // Text only: held-out and training combinations, canonical prompts and paraphrases alternating.
    Tally held, train;
    for (int i = 0; i < n * 2; ++i) {
        const bool held_out = i % 2 == 0;
        const shapes::Scene scene =
            shapes::random_scene(rng, held_out ? shapes::Split::HeldOut : shapes::Split::Train);
        inference::GenerateRequest request;
        request.params = base;
        request.params.prompt = i % 4 < 2 ? shapes::canonical_prompt(scene) : shapes::paraphrase(scene, rng);
        auto video = run(request, held_out ? "heldout" : "train");
        if (!video) return report_error(failure);
        auto judged = judge(*video);
        if (!judged) return report_error(judged.message());
        (held_out ? held : train).add(scene, *judged);
    }

    Tally first_tally, key_tally, extend_tally;
    std::vector<double> first_psnr, key_first_psnr, key_last_psnr, seam_jump;
    int extend_same = 0, extend_found = 0, reference_colour = 0, reference_shape = 0, reference_clips = 0;
    if (conditioned) {
        for (int i = 0; i < n && has_task("i2v"); ++i) {  // first frame given
            const shapes::Scene scene = shapes::random_scene(rng, shapes::Split::HeldOut);
            const core::Video truth = rendered(scene);
            inference::GenerateRequest request;
            request.params = base;
            request.params.prompt = shapes::paraphrase(scene, rng);
            request.params.conditioning.first_frame = "(rendered)";
            request.media.first_frame = truth.frames.front();
            auto video = run(request, "first-frame");
            if (!video) return report_error(failure);
            first_psnr.push_back(psnr(video->frames.front(), truth.frames.front()));
            auto judged = judge(*video);
            if (!judged) return report_error(judged.message());
            first_tally.add(scene, *judged);
        }
        for (int i = 0; i < n && has_task("flf2v"); ++i) {  // first and last frame given
            const shapes::Scene scene = shapes::random_scene(rng, shapes::Split::HeldOut);
            const core::Video truth = rendered(scene);
            inference::GenerateRequest request;
            request.params = base;
            request.params.prompt = shapes::paraphrase(scene, rng);
            request.params.conditioning.first_frame = request.params.conditioning.last_frame = "(rendered)";
            request.media.first_frame = truth.frames.front();
            request.media.last_frame = truth.frames.back();
            auto video = run(request, "keyframes");
            if (!video) return report_error(failure);
            key_first_psnr.push_back(psnr(video->frames.front(), truth.frames.front()));
            key_last_psnr.push_back(psnr(video->frames.back(), truth.frames.back()));
            auto judged = judge(*video);
            if (!judged) return report_error(judged.message());
            key_tally.add(scene, *judged);
        }
        for (int i = 0; i < n && has_task("extend"); ++i) {  // continue a rendered clip
            shapes::Scene scene = shapes::random_scene(rng, shapes::Split::HeldOut);
            const core::Video source = rendered(scene);
            inference::GenerateRequest request;
            request.params = base;
            request.params.prompt = shapes::paraphrase(scene, rng);
            request.params.conditioning.extend = "(rendered)";
            request.media.extend_source = source;
            auto video = run(request, "extend");
            if (!video) return report_error(failure);
            auto from = judge(source);
            auto judged = judge(*video);
            if (!from || !judged) return report_error(!from ? from.message() : judged.message());
            const SourceEnd end = source_end(*from);
            if (end.found && !judged->track.empty() && judged->track.front().found) {
                // Where the object should be one frame after the source's last: last position + velocity.
                seam_jump.push_back(std::hypot(judged->track.front().x - (end.x + end.vx),
                                               judged->track.front().y - (end.y + end.vy)));
            }
            if (judged->object_found) {
                ++extend_found;
                extend_same += judged->colour == scene.colour && judged->shape == scene.shape;
            }
            // The continuation may leave the frame: motion is judged on source + continuation.
            core::Video whole = source;
            for (const auto& f : video->frames) whole.frames.push_back(f);
            auto whole_judged = judge(whole);
            if (!whole_judged) return report_error(whole_judged.message());
            extend_tally.add(scene, *whole_judged);
        }
        for (int i = 0; i < n && has_task("reference");
             ++i) {  // reference image, subject left out of the prompt
            const shapes::Scene scene = shapes::random_scene(rng, shapes::Split::HeldOut);
            shapes::Scene still = scene;
            still.motion = shapes::Motion::Still;
            still.background = static_cast<shapes::Background>(
                (static_cast<int>(scene.background) + 1 + i % 3) % shapes::kBackgrounds);
            inference::GenerateRequest request;
            request.params = base;
            request.params.prompt = shapes::paraphrase_unnamed(scene, rng);
            request.params.conditioning.references = {"(rendered)"};
            request.media.references = {
                shapes::render(still, base.width, base.height, 1, base.fps).frames.front()};
            auto video = run(request, "reference");
            if (!video) return report_error(failure);
            auto judged = judge(*video);
            if (!judged) return report_error(judged.message());
            ++reference_clips;
            reference_colour += judged->object_found && judged->colour == scene.colour;
            reference_shape += judged->object_found && judged->shape == scene.shape;
        }
    }
    bar.finish();

    std::printf("model %s (%s), %d steps (%s, shift %.1f), guidance %.1f, seed %lld; %dx%d, %d frames\n\n",
                card->id.c_str(), card->trained ? "trained" : "untrained", base.steps, base.sampler.c_str(),
                base.shift, base.guidance, static_cast<long long>(*seed), base.width, base.height,
                base.frames);
    std::printf(
        "| task | combinations | clips | colour | shape | motion | background "
        "|\n|---|---|---|---|---|---|---|\n");
    const auto row = [](const char* task, const char* combos, const Tally& t) {
        if (t.clips == 0) return;
        std::printf("| %s | %s | %d | %.0f%% | %.0f%% | %.0f%% | %.0f%% |\n", task, combos, t.clips,
                    pct(t.colour, t.clips), pct(t.shape, t.clips), pct(t.motion, t.clips),
                    pct(t.background, t.clips));
    };
    row("text", "held-out", held);
    row("text", "training", train);
    row("first frame", "held-out", first_tally);
    row("keyframes", "held-out", key_tally);
    row("extension (source + continuation)", "held-out", extend_tally);
    Json report;
    report["model"] = card->id;
    report["steps"] = base.steps;
    report["guidance"] = base.guidance;
    report["shift"] = base.shift;
    report["sampler"] = base.sampler;
    report["seed"] = *seed;
    report["text_held_out"] = tally_json(held);
    report["text_training"] = tally_json(train);
    if (!conditioned) {
        std::printf(
            "\nfirst frame / keyframes / extension / reference: n/a (model '%s' supports only "
            "text-to-video)\n",
            card->id.c_str());
    } else {
        std::printf("\n| measure | value |\n|---|---|\n");
        if (!first_psnr.empty())
            std::printf("| first frame: PSNR of frame 0 vs the given image | mean %.1f dB, min %.1f dB |\n",
                        mean(first_psnr), percentile(first_psnr, 0.0));
        if (!key_last_psnr.empty())
            std::printf(
                "| keyframes: PSNR of frame 0 / last frame vs the given images | %.1f dB / %.1f dB (min "
                "%.1f) |\n",
                mean(key_first_psnr), mean(key_last_psnr), percentile(key_last_psnr, 0.0));
        if (!seam_jump.empty())
            std::printf(
                "| extension: position jump at the seam (px; median / 90th percentile) | %.2f / %.2f (%zu "
                "seams) |\n",
                percentile(seam_jump, 0.5), percentile(seam_jump, 0.9), seam_jump.size());
        if (extend_found)
            std::printf("| extension: continuation keeps colour and shape | %.0f%% |\n",
                        pct(extend_same, extend_found));
        if (reference_clips)
            std::printf("| reference: colour / shape match the reference | %.0f%% / %.0f%% |\n",
                        pct(reference_colour, reference_clips), pct(reference_shape, reference_clips));
        report["first_frame"] = tally_json(first_tally);
        report["first_frame"]["psnr_frame0_mean_db"] = mean(first_psnr);
        report["first_frame"]["psnr_frame0_min_db"] = percentile(first_psnr, 0.0);
        report["keyframes"] = tally_json(key_tally);
        report["keyframes"]["psnr_last_mean_db"] = mean(key_last_psnr);
        report["keyframes"]["psnr_last_min_db"] = percentile(key_last_psnr, 0.0);
        report["extension"] = tally_json(extend_tally);
        report["extension"]["seam_jump_px_median"] = percentile(seam_jump, 0.5);
        report["extension"]["seam_jump_px_p90"] = percentile(seam_jump, 0.9);
        report["extension"]["same_colour_and_shape"] = pct(extend_same, extend_found);
        report["reference"] = {{"clips", reference_clips},
                               {"colour", pct(reference_colour, reference_clips)},
                               {"shape", pct(reference_shape, reference_clips)}};
    }
    if (const auto out = args->get("--json")) {
        if (auto w = core::write_file_atomically(*out, report.dump(2) + "\n"); !w)
            return report_error(w.message());
    }
    if (args->has("--record")) {
        std::string command = "frameloom eval shapes";
        for (size_t i = 1; i < argv.size(); ++i) command += " " + argv[i];
        report["command"] = command;
        if (auto recorded = inference::record_card_field(*card, "results", report.dump()); !recorded)
            return report_error(recorded.message());
        std::printf("\nrecorded in %s\n", card->card_path.c_str());
    }
    return 0;
}

}  // namespace fl::cli
