// frameloom eval consistency: the consistency stage measured with a real model. Chained extension with and
// without the automatic correction (colour drift and identity of the last segment against the first), and
// best-of-N against a single take on identity with a reference image.
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <numeric>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/progress_bar.h"
#include "frameloom/consistency/continuity.h"
#include "frameloom/consistency/extension.h"
#include "frameloom/consistency/identity.h"
#include "frameloom/consistency/ranking.h"
#include "frameloom/consistency/shapes_judge.h"
#include "frameloom/consistency/temporal.h"
#include "frameloom/core/atomic_file.h"
#include "frameloom/core/shapes_world.h"
#include "frameloom/inference/generator.h"

namespace fl::cli {
namespace shapes = core::shapes;
namespace {

double average(const std::vector<double>& v) {
    return v.empty() ? 0.0 : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

/// Mean L*a*b* of a whole clip.
core::Result<consistency::Lab> clip_lab(const core::Video& video) {
    auto t = consistency::measure_temporal(video);
    if (!t) return t.error();
    consistency::Lab sum;
    for (const auto& lab : t->mean_lab) {
        sum.L += lab.L;
        sum.a += lab.a;
        sum.b += lab.b;
    }
    const double n = static_cast<double>(std::max<size_t>(1, t->mean_lab.size()));
    return consistency::Lab{sum.L / n, sum.a / n, sum.b / n};
}

/// Figures of one extension chain.
struct ChainFigures {
    std::vector<double> last_seam_delta_e, drift_delta_e, identity_last;
};

}  // namespace

int run_eval_consistency(const std::vector<std::string>& argv) {
    if (!argv.empty() && (argv[0] == "--help" || argv[0] == "-h")) {
        std::puts("usage: frameloom eval consistency [--model ID] [--chains N] [--extensions K] [--shots N] [--takes N]\n"
                  "                                  [--steps N] [--seed N] [--json FILE]\n\n"
                  "Measures the consistency stage with a model that can extend clips and take reference images:\n"
                  "  chains: N shots (a still object, so it stays in frame) extended K times from their last segment,\n"
                  "  once raw and once with the automatic correction; colour drift (CIEDE2000 between the mean colour of\n"
                  "  the first and the last segment), the last seam's delta E, and identity of the last segment against\n"
                  "  the first segment's first frame.\n"
                  "  best-of-N: N shots with a reference image and an \"the object ...\" prompt, generated as N takes;\n"
                  "  identity of the first take against that of the take rank_takes puts first.");
        return 0;
    }
    auto args = Args::parse(argv, {"--model", "--chains", "--extensions", "--shots", "--takes", "--steps", "--seed", "--json"},
                            {}, "eval consistency");
    if (!args) return report_error(args.message(), 2);
    auto chains = args->get_int("--chains", 6), extensions = args->get_int("--extensions", 5);
    auto shots = args->get_int("--shots", 8), takes = args->get_int("--takes", 4), seed = args->get_int("--seed", 1);
    for (const auto* v : {&chains, &extensions, &shots, &takes, &seed})
        if (!*v) return report_error(v->message(), 2);
    if (*chains < 0 || *extensions < 1 || *shots < 0 || *takes < 2)
        return report_error("--extensions must be at least 1, --takes at least 2, --chains and --shots not negative", 2);
    const inference::ModelStore store(inference::ModelStore::default_roots());
    auto card = store.find(args->get("--model").value_or("default"));
    if (!card) return report_error(card.message(), 2);
    const auto has = [&](const char* task) { return std::find(card->tasks.begin(), card->tasks.end(), task) != card->tasks.end(); };
    if (!has("extend") || !has("reference"))
        return report_error("model '" + card->id + "' cannot extend clips or take reference images: use the default model", 2);
    core::GenerationParams base = inference::default_params(*card);
    auto steps = args->get_int("--steps", base.steps);
    if (!steps) return report_error(steps.message(), 2);
    base.steps = static_cast<int>(*steps);
    auto generator = inference::Generator::load(*card, {});
    if (!generator) return report_error(generator.message());

    std::mt19937_64 rng(static_cast<uint64_t>(*seed));
    uint64_t next_seed = static_cast<uint64_t>(*seed) * 1000;
    ProgressBar bar("evaluating");
    const int64_t total = *chains * (1 + 2 * *extensions) + *shots * *takes;
    int64_t done = 0;
    const auto generate = [&](inference::GenerateRequest request) -> core::Result<core::Video> {
        request.params.seed = next_seed++;
        auto video = (*generator)->generate(request);
        bar.update(++done, total, "generating");
        return video;
    };

    ChainFigures raw, corrected;
    for (int64_t c = 0; c < *chains; ++c) {
        shapes::Scene scene = shapes::random_scene(rng, shapes::Split::All);
        scene.motion = shapes::Motion::Still;
        scene.travel = 0.0;
        inference::GenerateRequest first;
        first.params = base;
        first.params.prompt = shapes::canonical_prompt(scene);
        auto segment0 = generate(first);
        if (!segment0) return report_error(segment0.message());
        auto lab0 = clip_lab(*segment0);
        if (!lab0) return report_error(lab0.message());
        for (bool correct : {false, true}) {
            core::Video previous = *segment0;
            for (int64_t k = 0; k < *extensions; ++k) {
                inference::GenerateRequest request;
                request.params = base;
                request.params.prompt = first.params.prompt;
                request.params.conditioning.extend = "(previous segment)";
                request.media.extend_source = previous;
                auto next = generate(request);
                if (!next) return report_error(next.message());
                if (correct) {
                    auto fixed = consistency::correct_extension(*segment0, previous, *next);
                    if (!fixed) return report_error(fixed.message());
                    next = std::move(*fixed);
                }
                if (k + 1 == *extensions) {
                    ChainFigures& f = correct ? corrected : raw;
                    auto seam = consistency::measure_seam(previous, *next);
                    auto lab = clip_lab(*next);
                    auto identity = consistency::measure_identity(*next, {segment0->frames.front()});
                    if (!seam || !lab || !identity) return report_error("measuring the chain failed");
                    f.last_seam_delta_e.push_back(seam->delta_e);
                    f.drift_delta_e.push_back(consistency::delta_e_2000(*lab0, *lab));
                    f.identity_last.push_back(identity->clip);
                }
                previous = std::move(*next);
            }
        }
    }

    std::vector<double> single_identity, best_identity;
    int single_match = 0, best_match = 0;
    for (int64_t s = 0; s < *shots; ++s) {
        const shapes::Scene scene = shapes::random_scene(rng, shapes::Split::HeldOut);
        shapes::Scene still = scene;
        still.motion = shapes::Motion::Still;
        still.travel = 0.0;
        const core::Frame reference = shapes::render(still, base.width, base.height, 1, base.fps).frames.front();
        inference::GenerateRequest request;
        request.params = base;
        request.params.prompt = shapes::paraphrase_unnamed(scene, rng);
        request.params.conditioning.references = {"(rendered)"};
        request.media.references = {reference};
        std::vector<consistency::TakeScores> scores;
        std::vector<bool> matches;
        for (int64_t t = 0; t < *takes; ++t) {
            auto video = generate(request);
            if (!video) return report_error(video.message());
            auto identity = consistency::measure_identity(*video, {reference});
            auto temporal = consistency::measure_temporal(*video);
            auto judged = consistency::judge_shapes(*video);
            if (!identity || !temporal || !judged) return report_error("measuring a take failed");
            scores.push_back({std::to_string(t), identity->clip, temporal->flicker, temporal->warp_error});
            matches.push_back(judged->object_found && judged->colour == scene.colour && judged->shape == scene.shape);
        }
        const auto ranked = consistency::rank_takes(scores);
        const size_t best = static_cast<size_t>(std::stoi(ranked.front().take_id));
        single_identity.push_back(*scores.front().identity);
        best_identity.push_back(*scores[best].identity);
        single_match += matches.front();
        best_match += matches[best];
    }
    bar.finish();

    std::printf("model %s, %d steps, seed %lld\n\n", card->id.c_str(), base.steps, static_cast<long long>(*seed));
    nlohmann::ordered_json report;
    report["model"] = card->id;
    report["steps"] = base.steps;
    if (*chains > 0) {
        std::printf("Chained extension: %lld still-object shots, each extended %lld times (mean over shots)\n\n",
                    static_cast<long long>(*chains), static_cast<long long>(*extensions));
        std::printf("| correction | drift first→last segment (ΔE00) | last seam ΔE00 | identity of last segment vs first |\n"
                    "|---|---|---|---|\n");
        for (const auto& [label, f] : {std::pair<const char*, const ChainFigures&>{"off", raw}, {"on (default)", corrected}})
            std::printf("| %s | %.2f | %.2f | %.3f |\n", label, average(f.drift_delta_e), average(f.last_seam_delta_e),
                        average(f.identity_last));
        for (const auto& [key, f] : {std::pair<const char*, const ChainFigures&>{"chain_uncorrected", raw}, {"chain_corrected", corrected}})
            report[key] = {{"chains", *chains},
                           {"extensions", *extensions},
                           {"drift_delta_e00", average(f.drift_delta_e)},
                           {"last_seam_delta_e00", average(f.last_seam_delta_e)},
                           {"identity_last_vs_first", average(f.identity_last)}};
    }
    if (*shots > 0) {
        std::printf("\nBest-of-%lld: %lld held-out shots with one reference image and an \"the object ...\" prompt\n\n",
                    static_cast<long long>(*takes), static_cast<long long>(*shots));
        std::printf("| take | identity vs reference | judge: colour and shape match the reference |\n|---|---|---|\n");
        std::printf("| single (first take) | %.3f | %.0f%% |\n", average(single_identity), 100.0 * single_match / *shots);
        std::printf("| best of %lld (rank_takes) | %.3f | %.0f%% |\n", static_cast<long long>(*takes), average(best_identity),
                    100.0 * best_match / *shots);
        report["best_of_n"] = {{"shots", *shots},
                               {"takes", *takes},
                               {"single_identity", average(single_identity)},
                               {"best_identity", average(best_identity)},
                               {"single_match", 100.0 * single_match / *shots},
                               {"best_match", 100.0 * best_match / *shots}};
    }
    if (const auto out = args->get("--json"))
        if (auto w = core::write_file_atomically(*out, report.dump(2) + "\n"); !w) return report_error(w.message());
    return 0;
}

}  // namespace fl::cli
