// frameloom demo: builds the demo project — a short storyboard in the default model's world, every shot
// generated, the takes cut together with a crossfade and fades, and a music track made by the project —
// so that `frameloom render DIR/shapes-demo.flproj -o film.mp4` turns it into a film in one command and the
// studio opens it ready to re-generate.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/progress_bar.h"
#include "frameloom/core/atomic_file.h"
#include "frameloom/core/edit.h"
#include "frameloom/core/media_paths.h"
#include "frameloom/core/project_file.h"
#include "frameloom/inference/generator.h"
#include "frameloom/media/audio.h"
#include "frameloom/media/conditioning.h"
#include "frameloom/media/decode.h"
#include "frameloom/media/encode.h"

namespace fl::cli {
namespace fs = std::filesystem;
namespace {

constexpr const char* kProjectName = "shapes-demo";

/// One shot of the storyboard; conditioning paths are relative to the project folder.
struct DemoShot {
    const char* name;
    const char* prompt;
    uint64_t seed;
    core::Conditioning conditioning;
};

std::string utc_now() {
    const std::time_t t = std::time(nullptr);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
    return text;
}

core::Result<void> apply(core::Project& project, std::unique_ptr<core::Command> command) {
    return command->redo(project);
}

}  // namespace

int run_demo(const std::vector<std::string>& argv) {
    if (!argv.empty() && (argv[0] == "--help" || argv[0] == "-h")) {
        std::puts("usage: frameloom demo [--out DIR] [--model ID]\n\n"
                  "Builds the demo project DIR/shapes-demo.flproj (default DIR: demo): four shots in the default model's\n"
                  "world (text, an extension of the first shot, a new subject, and the first subject again from a\n"
                  "reference image), each generated, cut together on the timeline with a crossfade and fades, over a\n"
                  "music track synthesised by Frameloom. Then: frameloom render DIR/shapes-demo.flproj -o film.mp4");
        return 0;
    }
    auto args = Args::parse(argv, {"--out", "--model"}, {}, "demo");
    if (!args) return report_error(args.message(), 2);
    const fs::path dir = fs::absolute(args->get("--out").value_or("demo")).lexically_normal();
    const fs::path project_file = dir / (std::string(kProjectName) + ".flproj");
    const fs::path media = core::media_folder_for(project_file);
    std::error_code ec;
    fs::create_directories(media, ec);
    if (ec) return report_error("cannot create " + media.string() + ": " + ec.message());

    const inference::ModelStore store(inference::ModelStore::default_roots());
    auto card = store.find(args->get("--model").value_or("default"));
    if (!card) return report_error(card.message(), 2);
    auto generator = inference::Generator::load(*card, {});
    if (!generator) return report_error(generator.message());

    const std::string media_rel = media.filename().string();
    core::Conditioning extend_first;
    extend_first.extend = media_rel + "/shot-1.mp4";
    core::Conditioning reference;
    reference.references = {media_rel + "/red-circle.png"};
    const std::vector<DemoShot> storyboard = {
        {"Opening", "a red circle moving right on a dark blue background", 11, {}},
        {"The circle goes on", "a red circle moving right on a dark blue background", 12, extend_first},
        {"A new shape", "a yellow triangle moving left on a dark blue background", 13, {}},
        {"The circle returns", "the object moving down on a black background", 14, reference},
    };

    core::Project project = core::Project::make_new("Shapes demo");
    project.sequence.fps = card->defaults.fps;
    project.sequence.width = card->defaults.width;
    project.sequence.height = card->defaults.height;
    const std::string video_track = project.sequence.tracks.front().id;
    ProgressBar bar("demo      ");
    for (size_t i = 0; i < storyboard.size(); ++i) {
        const DemoShot& s = storyboard[i];
        core::Shot shot;
        shot.id = project.fresh_id("shot");
        shot.name = s.name;
        shot.params = inference::default_params(*card);
        shot.params.prompt = s.prompt;
        shot.params.seed = s.seed;
        shot.params.conditioning = s.conditioning;
        if (auto added = apply(project, core::make_add_shot(shot)); !added) return report_error(added.message());

        auto conditioning = media::load_conditioning(shot.params.conditioning, dir);
        if (!conditioning) return report_error(conditioning.message());
        inference::GenerateRequest request;
        request.params = shot.params;
        request.media = std::move(*conditioning);
        const auto started = std::chrono::steady_clock::now();
        auto video = (*generator)->generate(request);
        if (!video) return report_error(video.message());
        const fs::path file = media / ("shot-" + std::to_string(i + 1) + ".mp4");
        if (auto w = media::encode_mp4(*video, file); !w) return report_error(w.message());
        if (i == 0) {  // the first subject, kept as a reference image for the last shot
            if (auto w = media::write_png(video->frames.front(), media / "red-circle.png"); !w) return report_error(w.message());
        }
        auto sha = core::sha256_file(file);
        if (!sha) return report_error(sha.message());
        core::Take take;
        take.id = project.fresh_id("take");
        take.params = shot.params;
        take.file = media_rel + "/" + file.filename().string();
        take.sha256 = *sha;
        take.created = utc_now();
        take.generation_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        if (auto placed = apply(project, core::make_add_take_to_timeline(project, shot.id, take, video->frame_count()));
            !placed)
            return report_error(placed.message());
        bar.update(static_cast<int64_t>(i + 1), static_cast<int64_t>(storyboard.size()) + 1, s.name);
    }

    // The cut: fade in from black, a 4-frame crossfade into the new shape, fade out at the end.
    const auto& clips = project.sequence.find_track(video_track)->clips;
    const std::string first = clips.front().id, third = clips[2].id, last = clips.back().id;
    std::vector<std::unique_ptr<core::Command>> cut;
    cut.push_back(core::make_set_fades(video_track, first, 4, 0));
    cut.push_back(core::make_set_transition(video_track, third, 4));
    cut.push_back(core::make_set_fades(video_track, last, 0, 6));
    for (auto& command : cut)
        if (auto done = apply(project, std::move(command)); !done) return report_error(done.message());

    // Music made by the project, as long as the cut, on its own track.
    const int64_t frames = project.sequence.duration();
    media::MusicOptions music;
    music.seconds = static_cast<double>(frames) * project.sequence.fps.den / project.sequence.fps.num;
    music.seed = 3;
    music.sample_rate = 22050;
    if (auto w = media::write_wav(media::synthesize_music(music), media / "music.wav"); !w) return report_error(w.message());
    core::Track audio;
    audio.id = project.fresh_id("track");
    audio.name = "Music";
    audio.kind = core::TrackKind::Audio;
    if (auto added = apply(project, core::make_add_track(audio)); !added) return report_error(added.message());
    if (auto added = apply(project, core::make_add_audio_clip(audio.id, media_rel + "/music.wav", 0, frames, -6.0, "Music"));
        !added)
        return report_error(added.message());
    if (auto valid = project.check_invariants(); !valid) return report_error("demo project is invalid: " + valid.message());
    if (auto saved = core::save_project(project, project_file); !saved) return report_error(saved.message());
    bar.update(static_cast<int64_t>(storyboard.size()) + 1, static_cast<int64_t>(storyboard.size()) + 1, "saved");
    bar.finish();
    std::printf("%s\n", project_file.c_str());
    return 0;
}

}  // namespace fl::cli
