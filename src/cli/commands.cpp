#include "cli/commands.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "cli/args.h"
#include "cli/generation_args.h"
#include "cli/progress_bar.h"
#include "frameloom/consistency/extension.h"
#include "frameloom/core/atomic_file.h"
#include "frameloom/core/contact_sheet.h"
#include "frameloom/inference/bench.h"
#include "frameloom/inference/generator.h"
#include "frameloom/inference/model_builder.h"
#include "frameloom/inference/model_store.h"
#include "frameloom/inference/train.h"
#include "frameloom/media/conditioning.h"
#include "frameloom/media/decode.h"
#include "frameloom/media/encode.h"
#include "frameloom/media/probe.h"

namespace fl::cli {
namespace fs = std::filesystem;

int report_error(const std::string& message, int status) {
    std::fprintf(stderr, "frameloom: %s\n", message.c_str());
    return status;
}

bool wants_help(const std::vector<std::string>& argv) {
    for (const auto& a : argv)
        if (a == "--help" || a == "-h") return true;
    return false;
}

namespace {

// Ctrl-C asks the running generation or encode to stop, so no temp file is left behind.
std::atomic<bool> g_interrupted{false};
void on_interrupt(int) { g_interrupted.store(true); }

core::CancelFn interrupt_cancel() {
    std::signal(SIGINT, on_interrupt);
    std::signal(SIGTERM, on_interrupt);
    return [] { return g_interrupted.load(); };
}

constexpr const char* kGenerateHelp = R"(usage: frameloom generate --prompt TEXT -o OUT.mp4 [options]

Generates a shot with a local model and writes it as H.264 MP4 (the file appears only when complete).

  --prompt TEXT      what the shot shows (required)
  -o, --output PATH  the MP4 to write (required)
  --model ID|PATH    model id or alias from `frameloom models`, or a model card .json (default: default)
  --seed N           random seed; the same seed and settings give the same frames (default: random)
  --steps N          sampling steps (default: the model's)
  --guidance F       classifier-free guidance scale; 1 disables it (default: the model's)
  --shift F          flow-matching schedule shift (default: the model's)
  --sampler S        euler, unipc (Wan's default solver) or dpm++ (default: the model's)
  --negative TEXT    negative prompt (default: the model's)
  --frames N         number of frames (default: the model's)
  --fps N            frame rate, e.g. 8, 24 or 30000/1001 (default: the model's)
  --size WxH         frame size, multiples of 16 (default: the model's)
  --device D         cpu, cuda or auto (default: auto = cuda when available)
  --threads N        CPU threads for the model (default: all cores)
  --precision P      f32 or bf16 for the DiT's big products (default: bf16 on CUDA, f32 on CPU)
  --offload          keep the DiT's blocks in host memory and move one at a time to the GPU (for GPUs
                     smaller than the model; same result, slower)
  --vae-tile PX      decode the Wan VAE in overlapping tiles of about PX pixels: less memory for
                     large frames, close to but not bit-identical with whole frames (default: off)

Conditioning (models whose card lists the task; others say so and stop):
  --first-frame IMG  the shot starts on this image (image-to-video)
  --last-frame IMG   the shot ends on this image (with --first-frame: keyframes)
  --extend CLIP      continue this clip: the output is the continuation (the prompt may be omitted)
  --keep-source      with --extend: the output is the source clip followed by the continuation
  --extend-seconds S with --extend: make S seconds of continuation (passes of the model, each continuing
                     the last; default: one pass)
  --no-correct       with --extend: skip the consistency stage's colour correction of the continuation
                     (by default it is matched to the source, with a ramp at the seam, so chains do not drift)
  --reference IMG    a reference image of the subject, e.g. "the object moving right" (repeatable)
  --video CLIP       make the shot over this clip's frames (its first --frames frames, scaled to --size):
                     alone, the clip guides the whole result (a pose, depth or edge video: VACE control)
  --mask IMG|CLIP    with --video: white pixels are generated anew, black ones kept (in-painting); an
                     image masks every frame, a clip frame by frame
)";

core::Result<std::pair<int, int>> parse_size(const std::string& text) {
    const auto x = text.find_first_of("xX");
    const auto bad = core::fail("--size: expected WIDTHxHEIGHT such as 64x64 or 832x480, got '" + text + "'");
    if (x == std::string::npos) return bad;
    try {
        size_t used_w = 0, used_h = 0;
        const std::string ws = text.substr(0, x), hs = text.substr(x + 1);
        const int w = std::stoi(ws, &used_w), h = std::stoi(hs, &used_h);
        if (used_w != ws.size() || used_h != hs.size()) return bad;
        return std::make_pair(w, h);
    } catch (const std::exception&) {
        return bad;
    }
}

}  // namespace

/// --device as a policy (Auto when absent).
core::Result<inference::DevicePolicy> policy_from_args(const Args& args) {
    inference::DevicePolicy policy;
    if (auto d = args.get("--device")) {
        auto device = inference::parse_device(*d);
        if (!device) return device.error();
        policy.device = *device;
    }
    if (auto p = args.get("--precision")) {
        if (*p == "f32" || *p == "fp32")
            policy.precision = inference::Precision::F32;
        else if (*p == "bf16")
            policy.precision = inference::Precision::BF16;
        else if (*p != "auto")
            return core::fail("--precision: expected f32, bf16 or auto, got '" + *p + "'");
    }
    policy.offload = args.has("--offload");
    if (args.has("--vae-tile")) {
        auto tile = args.get_int("--vae-tile", 0);
        if (!tile) return tile.error();
        if (*tile < 64 || *tile > 8192)
            return core::fail("--vae-tile must be between 64 and 8192 pixels (got " + std::to_string(*tile) +
                              ")");
        policy.vae_tile = static_cast<int>(*tile);
    }
    if (args.has("--threads")) {
        auto threads = args.get_int("--threads", 0);
        if (!threads) return threads.error();
        if (*threads < 1 || *threads > 1024)
            return core::fail("--threads must be a whole number of CPU threads, 1 or more (got " +
                              std::to_string(*threads) + ")");
        policy.cpu_threads = static_cast<int>(*threads);
    }
    return policy;
}

/// The model's defaults overridden by the command line.
core::Result<core::GenerationParams> params_from_args(const Args& args, const inference::ModelCard& card,
                                                      bool validate) {
    core::GenerationParams p = inference::default_params(card);
    if (auto v = args.get("--prompt")) p.prompt = *v;
    if (auto v = args.get("--negative")) p.negative_prompt = *v;
    if (args.has("--seed")) {
        auto seed = args.get_int("--seed", 0);
        if (!seed) return seed.error();
        if (*seed < 0) return core::fail("--seed must be zero or positive");
        p.seed = static_cast<uint64_t>(*seed);
    } else {
        p.seed = std::random_device{}() % 1000000000u;
    }
    auto steps = args.get_int("--steps", p.steps);
    if (!steps) return steps.error();
    auto frames = args.get_int("--frames", p.frames);
    if (!frames) return frames.error();
    auto guidance = args.get_double("--guidance", p.guidance);
    if (!guidance) return guidance.error();
    auto shift = args.get_double("--shift", p.shift);
    if (!shift) return shift.error();
    p.steps = static_cast<int>(std::clamp<long long>(*steps, -1, 1 << 20));
    p.frames = static_cast<int>(std::clamp<long long>(*frames, -1, 1 << 20));
    p.guidance = *guidance;
    p.shift = *shift;
    if (auto v = args.get("--sampler")) {
        if (*v != "euler" && *v != "unipc" && *v != "dpm++")
            return core::fail("--sampler: expected euler, unipc or dpm++, got '" + *v + "'");
        p.sampler = *v;
    }
    if (auto v = args.get("--fps")) {
        auto fps = core::parse_frame_rate(*v);
        if (!fps) return core::fail("--fps: " + fps.message());
        p.fps = *fps;
    }
    if (auto v = args.get("--size")) {
        auto size = parse_size(*v);
        if (!size) return size.error();
        p.width = size->first;
        p.height = size->second;
    }
    p.conditioning.first_frame = args.get("--first-frame").value_or("");
    p.conditioning.last_frame = args.get("--last-frame").value_or("");
    p.conditioning.extend = args.get("--extend").value_or("");
    p.conditioning.keep_source = args.has("--keep-source");
    if (auto seconds = args.get("--extend-seconds")) {
        auto s = args.get_double("--extend-seconds", 0.0);
        if (!s) return s.error();
        if (!(*s > 0.0) || *s > 3600.0)
            return core::fail("--extend-seconds must be above 0 and at most 3600 (got " + *seconds + ")");
        if (p.conditioning.extend.empty())
            return core::fail("--extend-seconds only applies with --extend CLIP");
        p.conditioning.extend_frames = std::max<int64_t>(1, std::llround(*s * p.fps.to_double()));
    }
    p.conditioning.references = args.all("--reference");
    p.conditioning.video = args.get("--video").value_or("");
    p.conditioning.mask = args.get("--mask").value_or("");
    if (p.conditioning.keep_source && p.conditioning.extend.empty())
        return core::fail("--keep-source only applies with --extend CLIP");
    if (validate) FL_TRY(p.validate());
    return p;
}

int run_generate(const std::vector<std::string>& argv) {
    if (wants_help(argv)) {
        std::fputs(kGenerateHelp, stdout);
        return 0;
    }
    auto args = Args::parse(
        argv, {"--prompt",     "-o",       "--output",         "--model",     "--seed",     "--steps",
               "--guidance",   "--shift",  "--sampler",        "--negative",  "--frames",   "--fps",
               "--size",       "--device", "--threads",        "--precision", "--vae-tile", "--first-frame",
               "--last-frame", "--extend", "--extend-seconds", "--reference", "--video",    "--mask"},
        {"--keep-source", "--no-correct", "--offload"}, "generate");
    if (!args) return report_error(args.message(), 2);
    if (!args->positionals().empty())
        return report_error(
            "unexpected argument '" + args->positionals()[0] + "': put the prompt after --prompt", 2);
    if (!args->get("--prompt") && !args->get("--extend"))
        return report_error("--prompt is required: say what the shot shows", 2);
    const auto output = args->get("-o") ? args->get("-o") : args->get("--output");
    if (!output) return report_error("-o OUT.mp4 is required: say where to write the shot", 2);

    auto policy = policy_from_args(*args);
    if (!policy) return report_error(policy.message(), 2);
    const inference::ModelStore store(inference::ModelStore::default_roots());
    auto card = store.find(args->get("--model").value_or("default"));
    if (!card) return report_error(card.message(), 2);
    auto params = params_from_args(*args, *card);
    if (!params) return report_error(params.message(), 2);
    // Check the destination before spending time generating.
    if (auto pending = core::PendingFile::create(*output); !pending)
        return report_error(pending.message(), 1);

    // Read the conditioning files before loading the model: a bad path fails at once.
    auto media = media::load_conditioning(params->conditioning);
    if (!media) return report_error(media.message(), 2);

    auto generator = inference::Generator::load(*card, *policy);
    if (!generator) return report_error(generator.message());
    std::fprintf(stderr, "generating %dx%d, %d frames at %s fps with %s on %s, seed %llu, %d %s steps\n",
                 params->width, params->height, params->frames, core::to_string(params->fps).c_str(),
                 card->id.c_str(), (*generator)->policy().describe().c_str(),
                 static_cast<unsigned long long>(params->seed), params->steps, params->sampler.c_str());
    ProgressBar bar("generating");
    inference::GenerateRequest request;
    request.params = *params;
    request.media = std::move(*media);
    request.progress = [&](int64_t done, int64_t total, const std::string& label) {
        bar.update(done, total, label);
    };
    request.cancel = interrupt_cancel();
    inference::GenerateStats stats;
    auto video = (*generator)->generate(request, &stats);
    bar.finish();
    if (!video) return report_error(video.message(), g_interrupted ? 130 : 1);
    if (!params->conditioning.extend.empty() && !args->has("--no-correct")) {
        // The consistency stage after each extension: the continuation matched to the source (issue: drift).
        const core::Video& source = request.media.extend_source;
        const size_t kept = request.media.keep_source ? source.frames.size() : 0;
        core::Video continuation;
        continuation.fps = video->fps;
        continuation.frames.assign(video->frames.begin() + static_cast<std::ptrdiff_t>(kept),
                                   video->frames.end());
        auto corrected = consistency::correct_extension(source, source, continuation);
        if (!corrected) return report_error("correcting the extension: " + corrected.message());
        video->frames.resize(kept);
        for (auto& frame : corrected->frames) video->frames.push_back(std::move(frame));
    }

    ProgressBar encode_bar("encoding  ");
    media::EncodeOptions options;
    options.progress = [&](int64_t done, int64_t total, const std::string& label) {
        encode_bar.update(done, total, label);
    };
    options.cancel = request.cancel;
    auto written = media::encode_mp4(*video, *output, options);
    encode_bar.finish();
    if (!written) return report_error(written.message(), g_interrupted ? 130 : 1);
    std::printf("%s\n", fs::absolute(*output).lexically_normal().c_str());
    return 0;
}

int run_models(const std::vector<std::string>& argv) {
    if (wants_help(argv)) {
        std::puts(
            "usage: frameloom models [--json]\n\nLists every model card found in the model store folders: "
            "ready, or which files it\n"
            "still lacks, where to put them and where to get them. Also lists checkpoint files in the store "
            "that no\n"
            "card claims. Folders searched: $FRAMELOOM_MODELS, ./models, the repository's models/.\n\n"
            "  --json   the same as one JSON object, for scripts");
        return 0;
    }
    auto args = Args::parse(argv, {}, {"--json"}, "models");
    if (!args) return report_error(args.message(), 2);
    const inference::ModelStore store(inference::ModelStore::default_roots());
    const auto cards = store.list();
    const auto unrecognised = store.unrecognised_files();

    if (args->has("--json")) {
        nlohmann::ordered_json out;
        out["roots"] = nlohmann::json::array();
        for (const auto& root : store.roots()) out["roots"].push_back(root.string());
        out["models"] = nlohmann::json::array();
        for (const auto& card : cards) {
            const auto missing = card.missing();
            nlohmann::ordered_json m;
            m["id"] = card.id;
            m["aliases"] = card.aliases;
            m["name"] = card.name;
            m["ready"] = missing.empty();
            m["trained"] = card.trained;
            m["card"] = card.card_path.string();
            m["architecture"] = card.architecture;
            m["codec"] = card.codec;
            m["tasks"] = card.tasks;
            nlohmann::ordered_json files = nlohmann::ordered_json::object();
            for (const auto& [role, rel] : card.files) {
                std::error_code ec;
                const fs::path path = card.file(role);
                files[role] = {{"expected", rel}, {"path", path.string()}, {"present", fs::exists(path, ec)}};
            }
            m["files"] = files;
            m["missing"] = nlohmann::json::array();
            for (const auto& piece : missing)
                m["missing"].push_back(nlohmann::ordered_json{{"role", piece.role},
                                                              {"what", piece.what},
                                                              {"path", piece.path},
                                                              {"source", piece.source}});
            m["sizes"] = nlohmann::json::array();
            for (const auto& size : card.sizes)
                m["sizes"].push_back(std::to_string(size.width) + "x" + std::to_string(size.height));
            const auto& d = card.defaults;
            m["defaults"] = nlohmann::ordered_json{{"steps", d.steps},   {"guidance", d.guidance},
                                                   {"shift", d.shift},   {"sampler", d.sampler},
                                                   {"width", d.width},   {"height", d.height},
                                                   {"frames", d.frames}, {"fps", core::to_string(d.fps)}};
            out["models"].push_back(m);
        }
        out["unrecognised"] = nlohmann::json::array();
        for (const auto& u : unrecognised)
            out["unrecognised"].push_back(
                nlohmann::ordered_json{{"root", u.root.string()}, {"path", u.relative.string()}});
        std::printf("%s\n", out.dump(2).c_str());
        return cards.empty() ? 1 : 0;
    }

    std::printf("model store folders:\n");
    for (const auto& root : store.roots()) std::printf("  %s\n", root.c_str());
    if (cards.empty()) {
        std::printf(
            "no models found: run `frameloom init-model` or put model cards in one of the folders above\n");
        return 1;
    }
    std::printf("\n");
    for (const auto& card : cards) {
        std::string aliases;
        for (const auto& a : card.aliases) aliases += (aliases.empty() ? " (" : ", ") + a;
        if (!aliases.empty()) aliases += ")";
        const auto missing = card.missing();
        const std::string status = missing.empty() ? (card.trained ? "ready" : "ready, untrained")
                                                   : "missing " + std::to_string(missing.size()) + " of " +
                                                         std::to_string(card.files.size()) + " files";
        std::printf("%s%s  [%s]\n  %s\n", card.id.c_str(), aliases.c_str(), status.c_str(),
                    card.name.c_str());
        if (missing.empty()) {
            for (const auto& [role, rel] : card.files)
                std::printf("  %-20s %s\n", (inference::describe_role(role) + ":").c_str(),
                            card.file(role).c_str());
        } else {
            for (const auto& piece : missing) {
                std::printf("  %s: %s missing (%s)\n", card.id.c_str(), piece.what.c_str(),
                            piece.path.c_str());
                if (!piece.source.empty()) std::printf("      get it from %s\n", piece.source.c_str());
            }
        }
        std::string tasks;
        for (const auto& t : card.tasks) tasks += (tasks.empty() ? "" : ", ") + t;
        std::string sizes;
        for (const auto& sz : card.sizes)
            sizes += (sizes.empty() ? "" : ", ") + std::to_string(sz.width) + "x" + std::to_string(sz.height);
        if (!tasks.empty() || !sizes.empty())
            std::printf("  tasks: %s%s%s\n", tasks.empty() ? "-" : tasks.c_str(),
                        sizes.empty() ? "" : "; sizes: ", sizes.c_str());
        std::printf("  defaults: %dx%d, %d frames at %s fps, %d %s steps, guidance %.1f, shift %.1f\n",
                    card.defaults.width, card.defaults.height, card.defaults.frames,
                    core::to_string(card.defaults.fps).c_str(), card.defaults.steps,
                    card.defaults.sampler.c_str(), card.defaults.guidance, card.defaults.shift);
        std::printf("  card: %s\n\n", card.card_path.c_str());
    }
    for (const auto& u : unrecognised)
        std::printf("unrecognised: %s (in %s; no model card lists it)\n", u.relative.c_str(), u.root.c_str());
    return 0;
}

int run_probe(const std::vector<std::string>& argv) {
    if (wants_help(argv)) {
        std::puts(
            "usage: frameloom probe FILE\n\nDescribes a video or image: container, codec, size, frame rate, "
            "frame count, duration.");
        return 0;
    }
    auto args = Args::parse(argv, {}, {}, "probe");
    if (!args) return report_error(args.message(), 2);
    if (args->positionals().size() != 1) return report_error("probe takes one file: frameloom probe FILE", 2);
    auto info = media::probe(args->positionals()[0]);
    if (!info) return report_error(info.message());
    std::fputs(media::describe(*info).c_str(), stdout);
    return 0;
}

int run_sheet(const std::vector<std::string>& argv) {
    if (wants_help(argv)) {
        std::puts(
            "usage: frameloom sheet CLIP -o SHEET.png [--columns N] [--every N] [--scale N]\n\n"
            "Writes a contact sheet: the clip's frames in a grid (every N-th frame, enlarged N times),\n"
            "left to right, top to bottom. Defaults: 8 columns, every frame, scale 1 (3 for clips under\n"
            "128 px wide).");
        return 0;
    }
    auto args = Args::parse(argv, {"-o", "--columns", "--every", "--scale"}, {}, "sheet");
    if (!args) return report_error(args.message(), 2);
    if (args->positionals().size() != 1 || !args->get("-o"))
        return report_error("sheet takes one clip and -o: frameloom sheet CLIP -o SHEET.png", 2);
    auto video = media::decode_video(args->positionals()[0]);
    if (!video) return report_error(video.message());
    core::ContactSheetOptions o;
    auto columns = args->get_int("--columns", o.columns);
    auto every = args->get_int("--every", o.every);
    auto scale = args->get_int("--scale", video->width() < 128 ? 3 : 1);
    for (const auto* r : {&columns, &every, &scale})
        if (!*r) return report_error(r->message(), 2);
    o.columns = static_cast<int>(*columns);
    o.every = static_cast<int>(*every);
    o.scale = static_cast<int>(*scale);
    auto sheet = core::contact_sheet(*video, o);
    if (!sheet) return report_error(sheet.message(), 2);
    const fs::path out = *args->get("-o");
    if (auto written = media::write_png(*sheet, out); !written) return report_error(written.message());
    std::printf("%s\n", fs::absolute(out).lexically_normal().c_str());
    return 0;
}

int run_bench(const std::vector<std::string>& argv) {
    if (wants_help(argv)) {
        std::puts(
            "usage: frameloom bench [--model ID] [--device cpu|cuda|auto] [--runs N] [--steps N] [--frames "
            "N] [--size WxH]\n"
            "                       [--sampler euler|unipc|dpm++] [--threads N] [--precision f32|bf16]\n\n"
            "       frameloom bench --wan wan2.1-1.3b|wan2.1-14b|wan2.2-5b [--frames N] [--size WxH] "
            "[--steps N]\n"
            "                       [--no-text] [--no-dit] [--no-decode] [--vae-tile PX] [--device D] "
            "[--precision P] [--threads N]\n\n"
            "Times text encoding, each sampling step, decoding and H.264 encoding, and reports peak memory.\n"
            "One warm-up run, then the median of --runs timed runs (default 3).\n"
            "--wan times a released Wan configuration with random weights instead (no checkpoint needed):\n"
            "umT5-XXL text encoding, DiT steps (default 2, CFG pair, 17 frames at 256x256) against the "
            "device's\n"
            "matrix-product rate, and the VAE decode, each with its peak memory.");
        return 0;
    }
    auto args = Args::parse(argv,
                            {"--model", "--device", "--threads", "--precision", "--vae-tile", "--runs",
                             "--steps", "--frames", "--size", "--sampler", "--wan"},
                            {"--no-text", "--no-dit", "--no-decode"}, "bench");
    if (!args) return report_error(args.message(), 2);
    auto policy = policy_from_args(*args);
    if (!policy) return report_error(policy.message(), 2);
    if (auto wan = args->get("--wan")) {
        inference::WanBenchOptions o;
        o.config = *wan;
        auto frames = args->get_int("--frames", o.frames);
        auto steps = args->get_int("--steps", o.steps);
        if (!frames || !steps) return report_error(!frames ? frames.message() : steps.message(), 2);
        o.frames = static_cast<int>(std::clamp<long long>(*frames, 1, 10000));
        o.steps = static_cast<int>(std::clamp<long long>(*steps, 1, 1000));
        if (auto size = args->get("--size")) {
            auto wh = parse_size(*size);
            if (!wh) return report_error(wh.message(), 2);
            o.width = wh->first;
            o.height = wh->second;
        }
        o.text = !args->has("--no-text");
        o.dit = !args->has("--no-dit");
        o.decode = !args->has("--no-decode");
        auto report = inference::bench_wan_config(o, *policy);
        if (!report) return report_error(report.message());
        std::fputs(inference::format_wan_bench(*report).c_str(), stdout);
        return 0;
    }
    auto runs = args->get_int("--runs", 3);
    if (!runs) return report_error(runs.message(), 2);
    const inference::ModelStore store(inference::ModelStore::default_roots());
    auto card = store.find(args->get("--model").value_or("default"));
    if (!card) return report_error(card.message(), 2);
    std::vector<std::string> param_args = {"--prompt", "a red circle moving left on a black background",
                                           "--seed", "1"};
    for (const char* name : {"--steps", "--frames", "--size", "--sampler"})
        if (auto v = args->get(name)) param_args.insert(param_args.end(), {name, *v});
    auto parsed = Args::parse(
        param_args, {"--prompt", "--seed", "--steps", "--frames", "--size", "--sampler"}, {}, "bench");
    auto params = params_from_args(*parsed, *card);
    if (!params) return report_error(params.message(), 2);

    auto report =
        inference::bench_generation(*card, *policy, *params, static_cast<int>(std::max<long long>(1, *runs)));
    if (!report) return report_error(report.message());
    // Encoding is timed here: the inference bench has no FFmpeg.
    const fs::path tmp = fs::temp_directory_path() / "frameloom-bench.mp4";
    const auto start = std::chrono::steady_clock::now();
    auto written = media::encode_mp4(report->video, tmp);
    const double encode_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::error_code ec;
    fs::remove(tmp, ec);
    if (!written) return report_error(written.message());
    std::fputs(inference::format_bench(*report, {{"H.264 encode (MP4)", encode_seconds}}).c_str(), stdout);
    return 0;
}

int run_init_model(const std::vector<std::string>& argv) {
    if (wants_help(argv)) {
        std::puts(
            "usage: frameloom init-model [--out DIR] [--seed N] [--temporal-patch F] [--from MODEL]\n"
            "                            [--position-channels] [--text-len N] [--pooled-text]\n"
            "                            [--detail-head N]\n\n"
            "Writes the embedded default model (tokenizer, text encoder, DiT and card) into DIR (default: "
            "models).\n"
            "Its weights are a seeded random initialisation; the same seed gives the same weights.\n\n"
            "  --temporal-patch F  frames per DiT token (default: 4; 1 or 2 give more tokens per clip)\n"
            "  --from MODEL        start from a trained shapes model (id or card path) instead: its "
            "tokenizer,\n"
            "                      text encoder and DiT weights, split along time when its tokens span more "
            "frames\n"
            "  --position-channels give the DiT each latent pixel's time, row and column as three more "
            "input\n"
            "                      channels (without them it knows places only relatively, through RoPE)\n"
            "  --text-len N        tokens of text context (default: 32; the committed model has 48, as the longest\n"
            "                      capitalised paraphrases take 34)\n"
            "  --pooled-text       also add the prompt's mean context row to the DiT's time modulation, so\n"
            "                      every token hears the whole prompt (not only through cross-attention)\n"
            "  --detail-head N     add an MLP of N hidden units beside the DiT's output head that reads each\n"
            "                      token's input pixels, so the model can draw sharp edges (a token holds 768\n"
            "                      pixel values but only 192 channels); its output starts at zero");
        return 0;
    }
    auto args = Args::parse(argv, {"--out", "--seed", "--temporal-patch", "--from", "--text-len", "--detail-head"},
                            {"--position-channels", "--pooled-text"}, "init-model");
    if (!args) return report_error(args.message(), 2);
    auto seed = args->get_int("--seed", 0);
    if (!seed) return report_error(seed.message(), 2);
    inference::DefaultModelSpec spec;
    auto temporal = args->get_int("--temporal-patch", spec.temporal_patch);
    if (!temporal) return report_error(temporal.message(), 2);
    if (*temporal < 1 || 16 % *temporal != 0)
        return report_error("--temporal-patch must divide the clip's 16 frames: use 1, 2, 4, 8 or 16", 2);
    spec.seed = static_cast<uint64_t>(*seed);
    spec.temporal_patch = static_cast<int>(*temporal);
    spec.position_channels = args->has("--position-channels");
    spec.pooled_text = args->has("--pooled-text");
    auto text_len = args->get_int("--text-len", spec.text_len);
    if (!text_len) return report_error(text_len.message(), 2);
    if (*text_len < 8 || *text_len > 512)
        return report_error(
            "--text-len must be from 8 to 512 tokens (the prompts of the shapes world take up to 34)", 2);
    spec.text_len = *text_len;
    auto detail = args->get_int("--detail-head", 0);
    if (!detail) return report_error(detail.message(), 2);
    if (*detail < 0 || *detail > 4096)
        return report_error("--detail-head must be from 1 to 4096 hidden units (0 or no flag: none)", 2);
    spec.detail_hidden = *detail;
    if (auto from = args->get("--from")) {
        const inference::ModelStore store(inference::ModelStore::default_roots());
        auto card = store.find(*from);
        if (!card) return report_error(card.message(), 2);
        spec.from_card = card->card_path;
    }
    auto card = inference::build_default_model(args->get("--out").value_or("models"), spec);
    if (!card) return report_error(card.message());
    std::printf("%s\n", card->card_path.c_str());
    return 0;
}

int run_train(const std::vector<std::string>& argv) {
    if (wants_help(argv) || argv.empty()) {
        std::puts(
            "usage: frameloom train shapes [--steps N] [--resume STATE] [--device cpu|cuda|auto] "
            "[options]\n\n"
            "Trains a model on the procedural shapes world (rendered on the fly), then writes the EMA "
            "weights\n"
            "into the model's files and marks its card trained.\n\n"
            "  --model ID         model to train, starting from its current weights (default: default)\n"
            "  --steps N          total optimiser steps; a resumed run continues up to N (default: 1000)\n"
            "  --batch N          clips per step (default: 8)\n"
            "  --lr F             AdamW learning rate (default: 3e-4)\n"
            "  --loss-cap F       cap of the x0 loss weight 1/sigma^2 (min-SNR style; 0 = plain v-loss; "
            "default: 5)\n"
            "  --object-weight F  weight of the object's pixels in the loss, the background's being 1 "
            "(default: 1)\n"
            "  --shift F          noise-level shift of training: sigma = F*u/(1+(F-1)*u), u uniform; larger "
            "trains\n"
            "                     more at high noise, where the prompt decides where the object goes "
            "(default: 3)\n"
            "  --low-noise-share F  share of clips whose noise level is drawn uniformly below 0.5 instead, "
            "where\n"
            "                     edges and shapes are drawn (default: 0)\n"
            "  --first-frame-share F  share of clips trained with their first frame given (image-to-video),\n"
            "                     where the motion word alone says where the object goes; the other modes "
            "keep\n"
            "                     their proportions (default: 0.2)\n"
            "  --motion-drill-share F  share of steps whose clips are all a red circle on dark green moving\n"
            "                     left, right, up or down, so the prompt differs by the motion words alone "
            "(a\n"
            "                     curriculum for them; default: 0)\n"
            "  --seed N           data and noise seed (default: 0)\n"
            "  --resume STATE     continue a run bit-exactly from a training state\n"
            "  --checkpoint FILE  training state to write (default: out/train/<model>-state.safetensors)\n"
            "  --log FILE         loss log CSV (default: out/train/<model>-loss.csv)\n"
            "  --every N          steps between checkpoints (default: 100)\n"
            "  --no-export        keep the model's files unchanged (only write the training state)\n"
            "  --device D         cpu, cuda or auto\n"
            "  --threads N        CPU threads (default: all cores; fewer leaves the machine usable)");
        return argv.empty() ? 2 : 0;
    }
    if (argv[0] != "shapes")
        return report_error("unknown training set '" + argv[0] + "': use `frameloom train shapes`", 2);
    const std::vector<std::string> rest(argv.begin() + 1, argv.end());
    auto args =
        Args::parse(rest,
                    {"--model", "--steps", "--batch", "--lr", "--loss-cap", "--object-weight", "--shift",
                     "--low-noise-share", "--first-frame-share", "--motion-drill-share", "--seed", "--resume",
                     "--checkpoint", "--log", "--every", "--device", "--threads"},
                    {"--no-export"}, "train");
    if (!args) return report_error(args.message(), 2);
    auto policy = policy_from_args(*args);
    if (!policy) return report_error(policy.message(), 2);
    const inference::ModelStore store(inference::ModelStore::default_roots());
    auto card = store.find(args->get("--model").value_or("default"));
    if (!card) return report_error(card.message(), 2);

    inference::TrainOptions o;
    o.policy = *policy;
    auto steps = args->get_int("--steps", o.steps);
    auto batch = args->get_int("--batch", o.batch);
    auto seed = args->get_int("--seed", 0);
    auto every = args->get_int("--every", o.checkpoint_every);
    auto lr = args->get_double("--lr", o.learning_rate);
    auto cap = args->get_double("--loss-cap", o.loss_cap);
    // Options with a range: each is read, checked and stored, or named in a one-line error.
    struct Ranged {
        const char* name;
        double* field;
        double lo, hi;
        const char* range;
    };
    for (const Ranged& r : {Ranged{"--object-weight", &o.object_weight, 1.0, 100.0, "from 1 to 100"},
                            Ranged{"--shift", &o.shift, 0.1, 100.0, "from 0.1 to 100"},
                            Ranged{"--low-noise-share", &o.low_noise_share, 0.0, 1.0, "from 0 to 1"},
                            Ranged{"--first-frame-share", &o.first_frame_share, 0.0, 1.0, "from 0 to 1"},
                            Ranged{"--motion-drill-share", &o.motion_drill_share, 0.0, 1.0, "from 0 to 1"}}) {
        auto value = args->get_double(r.name, *r.field);
        if (!value) return report_error(value.message(), 2);
        if (!(*value >= r.lo && *value <= r.hi))
            return report_error(std::string(r.name) + " must be " + r.range, 2);
        *r.field = *value;
    }
    for (const auto* r : {&steps, &batch, &seed, &every})
        if (!*r) return report_error(r->message(), 2);
    if (!lr) return report_error(lr.message(), 2);
    if (!cap) return report_error(cap.message(), 2);
    if (*steps < 1 || *batch < 1 || *every < 1 || *seed < 0 || !(*lr > 0.0) || !(*cap >= 0.0))
        return report_error(
            "--steps, --batch and --every must be positive, --lr above 0, --loss-cap and --seed not negative",
            2);
    o.loss_cap = *cap;
    o.steps = static_cast<int>(*steps);
    o.batch = static_cast<int>(*batch);
    o.seed = static_cast<uint64_t>(*seed);
    o.checkpoint_every = static_cast<int>(*every);
    o.learning_rate = *lr;
    o.resume = args->get("--resume").value_or("");
    const fs::path out_dir = "out/train";
    o.checkpoint = args->get("--checkpoint").value_or((out_dir / (card->id + "-state.safetensors")).string());
    o.loss_log = args->get("--log").value_or((out_dir / (card->id + "-loss.csv")).string());
    std::error_code ec;
    fs::create_directories(
        fs::path(o.checkpoint).parent_path().empty() ? "." : fs::path(o.checkpoint).parent_path(), ec);
    fs::create_directories(
        fs::path(o.loss_log).parent_path().empty() ? "." : fs::path(o.loss_log).parent_path(), ec);

    ProgressBar bar("training");
    o.progress = [&](int64_t done, int64_t total, const std::string& label) {
        bar.update(done, total, label);
    };
    o.cancel = interrupt_cancel();
    auto result = inference::train_shapes(*card, o);
    bar.finish();
    if (!result) {
        if (core::is_cancelled_message(result.message()))
            return report_error("interrupted; continue with --resume " + o.checkpoint.string(), 130);
        return report_error(result.message());
    }
    std::fprintf(stderr, "trained steps %d..%d in %.1f s, final loss %.4f (mean of the last 100: %.4f)\n",
                 result->first_step, result->last_step, result->seconds, result->last_loss,
                 result->mean_loss_last_100);
    std::printf("%s\n", fs::absolute(o.checkpoint).lexically_normal().c_str());
    if (args->has("--no-export")) return 0;
    std::string command = "frameloom train shapes";
    for (const auto& a : rest) command += " " + a;
    auto exported = inference::export_trained_model(*card, o.checkpoint, command);
    if (!exported) return report_error(exported.message());
    std::printf("%s\n", exported->card_path.c_str());
    return 0;
}

}  // namespace fl::cli
