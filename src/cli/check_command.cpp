// `frameloom check`: every consistency metric of a clip, or of each clip and cut of a project.
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli/args.h"
#include "cli/commands.h"
#include "frameloom/consistency/continuity.h"
#include "frameloom/consistency/correction.h"
#include "frameloom/consistency/identity.h"
#include "frameloom/consistency/temporal.h"
#include "frameloom/core/media_paths.h"
#include "frameloom/core/project_file.h"
#include "frameloom/media/clip_frames.h"
#include "frameloom/media/decode.h"
#include "frameloom/media/encode.h"
#include "frameloom/media/probe.h"

namespace fl::cli {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kCheckHelp = R"(usage: frameloom check CLIP_OR_PROJECT [--reference IMG]... [--json]

Measures consistency. For a clip: flicker, warping error, colour drift, a per-frame score curve and,
with references, identity. For a project (.flproj): the same for every clip on the timeline, plus one
seam per cut between consecutive clips of a track (colour shift, brightness jump, motion continuity).

  --reference IMG  a reference image of the subject (repeatable); adds `identity` (0-1, higher is better)
  --seam-at N      a clip made by extension: also measure the join at frame N (the continuation's first)
  --json           print JSON: one object for a clip; {"project", "clips": [...], "seams": [...]} for a project

In a project, takes made by extension with their source kept (`generate --extend --keep-source`, the
studio's Extend) get their join measured the same way ("extension_seam" in a clip's JSON).

Higher is worse for flicker (ΔE76 per frame), warp_error (8-bit levels), drift and delta_e (CIEDE2000);
brightness_jump is L* after minus before. See docs/consistency.md for what each metric measures.
)";

json seam_report(const consistency::SeamMetrics& s);

/// Metrics of one clip as JSON (also the source of the text report). `seam_at` > 0 is the first frame of
/// an extension's continuation: the join is measured like a cut ("extension_seam").
core::Result<json> clip_report(const core::Video& video, const std::vector<core::Frame>& references,
                               int64_t seam_at = 0) {
    auto t = consistency::measure_temporal(video);
    if (!t) return t.error();
    json j;
    j["frames"] = video.frame_count();
    j["width"] = video.width();
    j["height"] = video.height();
    j["flicker"] = t->flicker;
    j["warp_error"] = t->warp_error;
    j["warp_error_max"] = t->warp_error_max;
    j["drift"] = t->drift;
    j["score_curve"] = t->score_curve;
    if (!references.empty()) {
        auto id = consistency::measure_identity(video, references);
        if (!id) return id.error();
        j["identity"] = id->clip;
        j["identity_min"] = id->min;
        j["identity_colour"] = id->colour;
        if (id->keypoints >= 0) j["identity_keypoints"] = id->keypoints;
        if (id->faces >= 0) j["identity_faces"] = id->faces;
        j["identity_curve"] = id->per_frame;
    }
    if (seam_at > 0 && seam_at < video.frame_count()) {
        auto seam = consistency::measure_join(video, seam_at);
        if (!seam) return seam.error();
        j["extension_seam"] = seam_report(*seam);
        j["extension_seam"]["frame"] = seam_at;
    }
    return j;
}

json seam_report(const consistency::SeamMetrics& s) {
    return {{"delta_e", s.delta_e},
            {"delta_e_max", s.delta_e_max},
            {"brightness_jump", s.brightness_jump},
            {"speed_before", s.speed_before},
            {"speed_after", s.speed_after},
            {"motion_jump", s.motion_jump},
            {"direction_change", s.direction_change}};
}

std::string curve_text(const json& curve) {
    std::string out;
    char buf[32];
    for (const auto& v : curve) {
        std::snprintf(buf, sizeof buf, "%s%.2f", out.empty() ? "" : " ", v.get<double>());
        out += buf;
    }
    return out;
}

void print_clip(const std::string& title, const json& j) {
    std::printf("%s\n  %lld frames, %dx%d\n", title.c_str(), j["frames"].get<long long>(),
                j["width"].get<int>(), j["height"].get<int>());
    std::printf("  flicker      %8.3f  ΔE76/frame (higher is worse)\n", j["flicker"].get<double>());
    std::printf("  warp_error   %8.3f  mean, %.3f worst pair, 8-bit levels (higher is worse)\n",
                j["warp_error"].get<double>(), j["warp_error_max"].get<double>());
    std::printf("  drift        %8.3f  ΔE00 first to last frame (higher is worse)\n",
                j["drift"].get<double>());
    if (j.contains("identity")) {
        std::printf("  identity     %8.3f  mean, %.3f worst frame (0-1, higher is better)\n",
                    j["identity"].get<double>(), j["identity_min"].get<double>());
        std::printf("    colour %.3f", j["identity_colour"].get<double>());
        if (j.contains("identity_keypoints"))
            std::printf(", keypoints %.3f", j["identity_keypoints"].get<double>());
        if (j.contains("identity_faces")) std::printf(", faces %.3f", j["identity_faces"].get<double>());
        std::printf("\n");
    }
    if (j.contains("extension_seam")) {
        const json& e = j["extension_seam"];
        std::printf(
            "  extension seam at frame %lld: delta_e %.3f (worst cell %.3f), brightness_jump %+.3f L*, "
            "motion jump %.2f px/frame\n",
            e["frame"].get<long long>(), e["delta_e"].get<double>(), e["delta_e_max"].get<double>(),
            e["brightness_jump"].get<double>(), e["motion_jump"].get<double>());
    }
    std::printf("  score curve  %s\n", curve_text(j["score_curve"]).c_str());
}

void print_seam(const json& s) {
    std::printf(
        "seam %s | %s (track %s)\n  delta_e %.3f (worst cell %.3f), brightness_jump %+.3f L*\n"
        "  motion %.2f -> %.2f px/frame, jump %.2f, direction change %.0f°\n",
        s["from"].get<std::string>().c_str(), s["to"].get<std::string>().c_str(),
        s["track"].get<std::string>().c_str(), s["delta_e"].get<double>(), s["delta_e_max"].get<double>(),
        s["brightness_jump"].get<double>(), s["speed_before"].get<double>(), s["speed_after"].get<double>(),
        s["motion_jump"].get<double>(), s["direction_change"].get<double>());
}

int check_project(const fs::path& path, const std::vector<core::Frame>& references, bool as_json) {
    auto project = core::load_project(path);
    if (!project) return report_error(project.message());
    const fs::path base = fs::absolute(path).parent_path();
    media::ClipFrames sources(base);
    const auto frames_of = [&](const core::Clip& clip) { return sources.of(*project, clip); };
    json clips = json::array(), seams = json::array();
    for (const core::Track& track : project->sequence.tracks) {
        if (track.kind != core::TrackKind::Video) continue;
        for (const core::Clip& clip : track.clips) {
            auto video = frames_of(clip);
            if (!video) return report_error(video.message());
            // A take made by extension with its source kept joins the two at the source's last frame.
            int64_t seam_at = 0;
            const core::Shot* shot = project->find_shot(clip.source.shot_id);
            const core::Take* take = shot ? shot->find_take(clip.source.take_id) : nullptr;
            if (take && !take->params.conditioning.extend.empty() && take->params.conditioning.keep_source) {
                auto source =
                    media::probe(core::resolve_media_reference(take->params.conditioning.extend, base));
                if (source && source->frame_count > clip.in) seam_at = source->frame_count - clip.in;
            }
            auto report = clip_report(*video, references, seam_at);
            if (!report) return report_error("clip " + clip.id + ": " + report.message());
            (*report)["clip"] = clip.id;
            (*report)["name"] = clip.name;
            (*report)["track"] = track.id;
            (*report)["position"] = clip.position;
            clips.push_back(*report);
        }
    }
    auto cuts = consistency::measure_cuts(*project, frames_of);
    if (!cuts) return report_error(cuts.message());
    for (const consistency::CutMetrics& cut : *cuts) {
        json s = seam_report(cut.seam);
        s["track"] = cut.track_id;
        s["from"] = cut.from_clip;
        s["to"] = cut.to_clip;
        s["position"] = cut.position;
        seams.push_back(s);
    }
    if (as_json) {
        json out{
            {"project", fs::absolute(path).lexically_normal().string()}, {"clips", clips}, {"seams", seams}};
        std::printf("%s\n", out.dump(2).c_str());
        return 0;
    }
    std::printf("project %s: %zu clips, %zu cuts\n\n", path.c_str(), clips.size(), seams.size());
    for (const auto& c : clips)
        print_clip("clip " + c["clip"].get<std::string>() + " \"" + c["name"].get<std::string>() + "\" on " +
                       c["track"].get<std::string>(),
                   c);
    for (const auto& s : seams) print_seam(s);
    return 0;
}

}  // namespace

int run_check(const std::vector<std::string>& argv) {
    if (wants_help(argv)) {
        std::fputs(kCheckHelp, stdout);
        return 0;
    }
    auto args = Args::parse(argv, {"--reference", "--seam-at"}, {"--json"}, "check");
    if (!args) return report_error(args.message(), 2);
    if (args->positionals().size() != 1)
        return report_error(
            "check takes one clip or project: frameloom check CLIP_OR_PROJECT [--reference IMG]", 2);
    std::vector<core::Frame> references;
    for (const auto& r : args->all("--reference")) {
        auto image = media::decode_image(r);
        if (!image) return report_error("--reference " + r + ": " + image.message());
        references.push_back(std::move(*image));
    }
    const fs::path path = args->positionals()[0];
    const bool as_json = args->has("--json");
    if (path.extension() == ".flproj") return check_project(path, references, as_json);

    auto seam_at = args->get_int("--seam-at", 0);
    if (!seam_at) return report_error(seam_at.message(), 2);
    if (*seam_at < 0) return report_error("--seam-at takes a frame number of the clip (0 or more)", 2);
    auto video = media::decode_video(path);
    if (!video) return report_error(video.message());
    if (*seam_at >= video->frame_count())
        return report_error("--seam-at " + std::to_string(*seam_at) + " is past the clip's " +
                            std::to_string(video->frame_count()) + " frames");
    auto report = clip_report(*video, references, *seam_at);
    if (!report) return report_error(report.message());
    (*report)["clip"] = fs::absolute(path).lexically_normal().string();
    if (as_json) {
        std::printf("%s\n", report->dump(2).c_str());
        return 0;
    }
    print_clip(path.string(), *report);
    return 0;
}

namespace {

constexpr const char* kCorrectHelp =
    R"(usage: frameloom correct CLIP -o OUT.mp4 [--match REF] [--ramp N] [--strength F] [--deflicker]

Applies the consistency stage's corrections to a clip and writes the result (the file appears only when
it is complete). Prints what changed, measured before and after.

  --match REF     match the clip's colour (L*a*b* mean and spread) to REF: an image, or a clip whose last
                  4 frames are the reference (the clip before a cut)
  --ramp N        with --match: the correction fades out over the first N frames, so the seam is matched
                  and the clip returns to its own look (default 0: every frame, the whole shot)
  --strength F    with --match: 0..1 blend of the correction (default 1)
  --deflicker     smooth frame-to-frame exposure and colour flicker (flow-guided, motion is not smeared)
)";

}  // namespace

int run_correct(const std::vector<std::string>& argv) {
    if (wants_help(argv)) {
        std::fputs(kCorrectHelp, stdout);
        return 0;
    }
    auto args = Args::parse(argv, {"-o", "--match", "--ramp", "--strength"}, {"--deflicker"}, "correct");
    if (!args) return report_error(args.message(), 2);
    if (args->positionals().size() != 1 || !args->get("-o"))
        return report_error("correct takes one clip and -o: frameloom correct CLIP -o OUT.mp4 --match REF",
                            2);
    if (!args->get("--match") && !args->has("--deflicker"))
        return report_error("nothing to correct: add --match REF and/or --deflicker", 2);
    auto ramp = args->get_int("--ramp", 0);
    if (!ramp) return report_error(ramp.message(), 2);
    auto strength = args->get_double("--strength", 1.0);
    if (!strength) return report_error(strength.message(), 2);
    if (*ramp < 0 || !(*strength >= 0.0 && *strength <= 1.0))
        return report_error("--ramp must not be negative and --strength must be from 0 to 1", 2);
    const fs::path in = args->positionals()[0], out = *args->get("-o");
    auto video = media::decode_video(in);
    if (!video) return report_error(video.message());
    core::Video result = *video;

    if (auto ref_path = args->get("--match")) {
        auto info = media::probe(*ref_path);
        if (!info) return report_error("--match " + *ref_path + ": " + info.message());
        consistency::ColorMatchOptions o;
        o.ramp_frames = static_cast<int>(*ramp);
        o.strength = *strength;
        core::Video reference;
        if (info->is_image) {
            auto image = media::decode_image(*ref_path);
            if (!image) return report_error("--match " + *ref_path + ": " + image.message());
            reference.frames.push_back(std::move(*image));
        } else {
            auto clip = media::decode_video(*ref_path);
            if (!clip) return report_error("--match " + *ref_path + ": " + clip.message());
            reference = std::move(*clip);
            o.reference_frames = 4;  // the end of the clip before the cut
        }
        auto matched = consistency::color_match(result, reference, o);
        if (!matched) return report_error(matched.message());
        auto before = consistency::measure_seam(reference, result);
        auto after = consistency::measure_seam(reference, *matched);
        if (before && after)
            std::fprintf(
                stderr,
                "colour at the join with %s: delta_e %.2f -> %.2f, brightness_jump %+.2f -> %+.2f L*\n",
                ref_path->c_str(), before->delta_e, after->delta_e, before->brightness_jump,
                after->brightness_jump);
        result = std::move(*matched);
    }
    if (args->has("--deflicker")) {
        auto smooth = consistency::deflicker(result);
        if (!smooth) return report_error(smooth.message());
        auto before = consistency::measure_temporal(result);
        auto after = consistency::measure_temporal(*smooth);
        if (before && after)
            std::fprintf(stderr, "flicker %.3f -> %.3f, warp_error %.2f -> %.2f\n", before->flicker,
                         after->flicker, before->warp_error, after->warp_error);
        result = std::move(*smooth);
    }
    if (auto written = media::encode_mp4(result, out); !written) return report_error(written.message());
    std::printf("%s\n", fs::absolute(out).lexically_normal().c_str());
    return 0;
}

}  // namespace fl::cli
