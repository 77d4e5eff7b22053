#include "inference/wan_pipeline.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <optional>
#include <sstream>

#include "inference/frame_conditioning.h"
#include "inference/patch_codec.h"
#include "inference/sampler.h"
#include "inference/timing.h"
#include "inference/torch_device.h"
#include "inference/vace_conditioning.h"
#include "inference/wan_image_conditioning.h"
#include "inference/wan_parts.h"

namespace fl::inference {
namespace {

/// Frames of a clip being extended that the model is given (its last half second at 8 fps).
constexpr int64_t kExtendFrames = 4;

}  // namespace

WanPipeline::WanPipeline(ModelCard card, DevicePolicy policy, Tokenizer tokenizer, wan::T5Encoder t5,
                         wan::WanDiT dit, std::unique_ptr<VideoCodec> codec, wan::CLIPVision clip,
                         torch::Device device)
    : card_(std::move(card)),
      policy_(policy),
      tokenizer_(std::move(tokenizer)),
      t5_(std::move(t5)),
      dit_(std::move(dit)),
      codec_(std::move(codec)),
      clip_(std::move(clip)),
      device_(device),
      scheme_(scheme_of(card_, dit_->config())) {}

core::Result<std::unique_ptr<WanPipeline>> WanPipeline::load(const ModelCard& card,
                                                             const DevicePolicy& requested) {
    const auto start = Clock::now();
    auto policy = requested.resolve();
    if (!policy) return policy.error();
    const torch::Device device = use_device(*policy);
    const auto precision =
        policy->precision == Precision::BF16 ? wan::DiTPrecision::BF16 : wan::DiTPrecision::F32;
    auto parts = load_wan_parts(card, device, precision);
    if (!parts) return parts.error();
    auto& t5 = parts->t5;
    auto& dit = parts->dit;

    t5->eval();
    dit->eval();
    // The text encoder stays on the CPU: it is small next to the DiT and frees the GPU for sampling.
    if (policy->offload)
        dit->offload_blocks_to(device);  // for GPUs smaller than the model
    else
        dit->to(device);
    parts->codec->set_decode_tile(policy->vae_tile);

    auto pipeline = std::unique_ptr<WanPipeline>(new WanPipeline(
        card, *policy, std::move(parts->tokenizer), t5, dit, std::move(parts->codec), parts->clip, device));
    pipeline->load_seconds_ = seconds_since(start);
    return pipeline;
}

core::Result<void> WanPipeline::check_request(const core::GenerationParams& p) const {
    FL_TRY(p.validate());
    const auto& c = p.conditioning;
    const auto listed = [&](const std::string& task) {
        return std::find(card_.tasks.begin(), card_.tasks.end(), task) != card_.tasks.end();
    };
    // Whether the model can take what a task gives (the card lists it and the scheme has an input for it).
    const auto takes = [&](const std::string& task) {
        switch (scheme_) {
            case Scheme::FrameMask:
            case Scheme::Vace:
                return listed(task);
            case Scheme::WanImage:
            case Scheme::TI2V:
                return task == "i2v" && listed(task);
            case Scheme::WanFirstLast:
                return (task == "i2v" || task == "flf2v") && listed("flf2v");
            case Scheme::None:
                break;
        }
        return false;
    };
    const auto unsupported = [&](const char* what) {
        return core::fail("model '" + card_.id + "' does not support " + what +
                          " yet: remove it, or pick a model whose card lists that task");
    };
    if (!c.first_frame.empty() && !takes("i2v")) return unsupported("--first-frame");
    if (!c.last_frame.empty() && !takes("flf2v")) return unsupported("--last-frame");
    if (!c.extend.empty() && !takes("extend")) return unsupported("--extend");
    if (!c.references.empty() && !takes("reference")) return unsupported("--reference");
    if (!c.video.empty() && !takes(c.mask.empty() ? "control" : "inpaint"))
        return unsupported(c.mask.empty() ? "--video (a control clip)" : "--video with --mask (in-painting)");
    const bool wan_image = scheme_ == Scheme::WanImage || scheme_ == Scheme::WanFirstLast;
    if (wan_image && c.first_frame.empty())
        return core::fail("model '" + card_.id + "' makes video from an image: give --first-frame IMG");
    if (scheme_ == Scheme::WanFirstLast && c.last_frame.empty())
        return core::fail("model '" + card_.id +
                          "' makes video between two frames: give --first-frame IMG and "
                          "--last-frame IMG");
    if (!c.extend.empty() && (!c.first_frame.empty()))
        return core::fail("--extend and --first-frame both set the first frames: give one of them");
    const auto stride = codec_->stride();
    const int64_t gh = stride[1] * dit_->config().patch[1], gw = stride[2] * dit_->config().patch[2];
    if (p.height % gh != 0 || p.width % gw != 0)
        return core::fail("size " + std::to_string(p.width) + "x" + std::to_string(p.height) +
                          " does not fit model '" + card_.id + "': width and height must be multiples of " +
                          std::to_string(gw));
    if (auto fits = codec_->check_video(p.frames, p.height, p.width); !fits)
        return core::fail("model '" + card_.id + "': " + fits.message());
    // Frame-mask models sample whole tokens and cut the extra frames; others need whole tokens.
    if (card_.conditioning.empty() && codec_->latent_frames(p.frames) % dit_->config().patch[0] != 0)
        return core::fail("model '" + card_.id + "': " + std::to_string(p.frames) +
                          " frames do not fit the DiT's temporal patch of " +
                          std::to_string(dit_->config().patch[0]));
    return core::ok();
}

WanPipeline::Scheme WanPipeline::scheme_of(const ModelCard& card, const wan::WanDiTConfig& dit) {
    if (card.conditioning == "frame-mask") return Scheme::FrameMask;
    if (!card.conditioning.empty()) return Scheme::None;
    if (dit.vace_in_dim > 0) return Scheme::Vace;
    if (dit.model_type == "i2v") return Scheme::WanImage;
    if (dit.model_type == "flf2v") return Scheme::WanFirstLast;
    if (dit.model_type == "ti2v") return Scheme::TI2V;
    return Scheme::None;
}

torch::Tensor WanPipeline::encode_text(const std::string& prompt) {
    torch::NoGradGuard no_grad;
    return encode_prompts(tokenizer_, *t5_, {prompt}, dit_->config().text_len);
}

core::Result<core::Video> WanPipeline::generate(const GenerateRequest& request, GenerateStats* stats) {
    try {
        if (!request.media.extend_source.frames.empty() && request.media.extend_frames > 0)
            return run_chain(request, stats);
        return run(request, stats);
    } catch (const std::exception& e) {
        return core::fail_from("generation failed: ", e);
    }
}

core::Result<core::Video> WanPipeline::run_chain(const GenerateRequest& request, GenerateStats* stats) {
    // Before: source [s0 … sN]          want = extend_frames new frames
    // After:  [s0 … sN | pass 0 | pass 1 | …] cut to N + want (keep_source) or [pass 0 | pass 1 | …] cut to
    // want
    const core::GenerationParams& p = request.params;
    const core::ConditioningMedia& media = request.media;
    const int64_t want = media.extend_frames;
    const int64_t per_pass =
        p.frames - std::min<int64_t>({kExtendFrames, media.extend_source.frame_count(), p.frames - 1});
    if (per_pass <= 0) return core::fail("an extension needs at least 2 frames per pass (--frames)");
    const int passes = static_cast<int>((want + per_pass - 1) / per_pass);
    const int units = p.steps + 2;  // run()'s progress units per pass
    const int64_t kept = media.keep_source ? media.extend_source.frame_count() : 0;
    core::Video out;
    out.fps = p.fps;
    GenerateStats total;
    for (int pass = 0; pass < passes; ++pass) {
        GenerateRequest r;
        r.params = p;
        r.params.seed = p.seed + static_cast<uint64_t>(pass);  // fresh noise for each pass
        r.cancel = request.cancel;
        r.media.references = media.references;
        if (pass == 0) {
            r.media.extend_source = media.extend_source;  // the first pass keeps (or not) the source, resized
            r.media.keep_source = media.keep_source;
        } else {
            // Later passes continue the frames made so far (the last kExtendFrames are all a pass reads).
            r.media.extend_source.fps = out.fps;
            const auto from = out.frames.end() - std::min<int64_t>(kExtendFrames, out.frame_count());
            r.media.extend_source.frames.assign(from, out.frames.end());
        }
        if (request.progress)
            r.progress = [&, pass](int64_t done, int64_t, const std::string& label) {
                request.progress(
                    pass * units + done, passes * units,
                    label + " (pass " + std::to_string(pass + 1) + "/" + std::to_string(passes) + ")");
            };
        if (request.step_preview)
            r.step_preview = [&, pass](int step, int steps, const core::Video& preview) {
                request.step_preview(pass * steps + step, passes * steps, preview);
            };
        GenerateStats one;
        auto part = run(r, &one);
        if (!part) return part.error();
        if (part->frames.empty())
            return core::fail("extension pass " + std::to_string(pass + 1) + " made no frames");
        for (auto& frame : part->frames) out.frames.push_back(std::move(frame));
        total.text_encode_seconds += one.text_encode_seconds;
        total.sampling_seconds += one.sampling_seconds;
        total.decode_seconds += one.decode_seconds;
        total.tokens = one.tokens;
    }
    out.frames.resize(static_cast<size_t>(std::min<int64_t>(out.frame_count(), kept + want)));
    if (stats) {
        total.load_seconds = load_seconds_;
        total.seconds_per_step = total.sampling_seconds / (static_cast<double>(p.steps) * passes);
        total.peak_rss_bytes = peak_rss_bytes();
        *stats = total;
    }
    return out;
}

core::Result<core::Video> WanPipeline::run(const GenerateRequest& request, GenerateStats* stats) {
    const core::GenerationParams& p = request.params;
    FL_TRY(check_request(p));
    const auto& named = p.conditioning;
    const auto& media = request.media;
    if ((!named.first_frame.empty() && !media.first_frame) ||
        (!named.last_frame.empty() && !media.last_frame) ||
        (!named.extend.empty() && media.extend_source.frames.empty()) ||
        (!named.video.empty() && media.video.frames.empty()) || (!named.mask.empty() && media.mask.empty()) ||
        named.references.size() != media.references.size())
        return core::fail(
            "the conditioning files were not read: load them with media::load_conditioning before "
            "generating");
    torch::NoGradGuard no_grad;
    GenerateStats local;
    local.load_seconds = load_seconds_;
    const int total_units = p.steps + 2;  // text encoding, steps, decoding
    const auto report = [&](int done, const std::string& label) {
        if (request.progress) request.progress(done, total_units, label);
    };

    auto start = Clock::now();
    const bool use_cfg = p.guidance != 1.0;
    const std::string negative =
        p.negative_prompt.empty() ? card_.defaults.negative_prompt : p.negative_prompt;
    torch::Tensor context = encode_text(p.prompt);
    if (use_cfg) context = torch::cat({context, encode_text(negative)}, 0);  // [2, L, D]: cond, uncond
    context = context.to(device_);
    local.text_encode_seconds = seconds_since(start);
    report(1, "text encoded");

    // Noise comes from a CPU generator seeded by the request, so a seed gives the same start on every device.
    const int64_t c = codec_->latent_channels();
    const auto stride = codec_->stride();
    const int64_t h = p.height / stride[1], w = p.width / stride[2];
    std::optional<FrameCondition> condition;
    const int64_t pt = dit_->config().patch[0];
    int64_t sampled_frames = codec_->latent_frames(p.frames);
    if (scheme_ == Scheme::FrameMask) {
        sampled_frames = (sampled_frames + pt - 1) / pt * pt;
        auto made = make_frame_condition(request.media, *codec_, p.frames, sampled_frames, p.height, p.width,
                                         pt, kExtendFrames);
        if (!made) return made.error();
        condition = std::move(*made);
        condition->clean = condition->clean.to(device_);
        condition->positions = card_.position_channels;
    }
    // Wan's image models: y (mask + latent of the given frames) and CLIP tokens, shared by the CFG pair.
    torch::Tensor image_y, clip_fea;
    if (scheme_ == Scheme::WanImage || scheme_ == Scheme::WanFirstLast) {
        auto made = make_wan_image_condition(request.media, *codec_, clip_ ? clip_.get() : nullptr, p.frames,
                                             p.height, p.width);
        if (!made) return made.error();
        image_y = made->y.to(device_);
        if (made->clip_fea.defined()) clip_fea = made->clip_fea.to(device_);
    }
    // Wan2.2 TI2V with a first frame: latent frame 0 is the image's, held there; its tokens get timestep 0.
    torch::Tensor first_latent;
    if (scheme_ == Scheme::TI2V && request.media.first_frame)
        first_latent =
            wan22_first_frame_latent(*request.media.first_frame, *codec_, p.height, p.width).to(device_);
    // VACE: every given frame and reference image as the 96-channel context (text only: zeros, mask ones).
    std::optional<VaceCondition> vace;
    if (scheme_ == Scheme::Vace) {
        auto made = make_vace_condition(request.media, *codec_, p.frames, p.height, p.width, kExtendFrames);
        if (!made) return made.error();
        vace = std::move(*made);
        vace->context = vace->context.to(device_);
    }
    const int64_t refs = condition ? condition->ref_frames : vace ? vace->ref_frames : 0;
    const int64_t lt = sampled_frames + refs;
    auto generator = at::make_generator<at::CPUGeneratorImpl>(p.seed);
    torch::Tensor x =
        torch::randn({1, c, lt, h, w}, generator, torch::TensorOptions().dtype(torch::kFloat32));
    x = x.to(device_);
    const torch::Tensor noise = x.clone();
    local.tokens =
        (lt / dit_->config().patch[0]) * (h / dit_->config().patch[1]) * (w / dit_->config().patch[2]);

    auto kind = parse_sampler(p.sampler);
    if (!kind) return kind.error();
    // t is σ·1000 for Euler and the scheduler's integer timestep for UniPC and DPM++, as the reference.
    // Frame-mask models see known frames clean beside their flags, and those frames follow their exact
    // straight path from the noise to the given pixels (frame_conditioning.h).
    const auto model_input = [&](const torch::Tensor& xt) {
        if (first_latent.defined()) {
            torch::Tensor held = xt.clone();
            held.narrow(2, 0, 1).copy_(first_latent.expand({xt.size(0), -1, -1, -1, -1}));
            return held;
        }
        return condition ? frame_mask_input(xt, *condition) : xt;
    };
    const auto finish = [&](const torch::Tensor& v) {
        return condition ? keep_known(v, noise - condition->clean, *condition) : v;
    };
    // x0-predicting models (card "prediction") give the clean latent; the sampler wants the velocity. The
    // model's t is σ·1000 (the integer timestep for UniPC / DPM++, within 1/1000 of it).
    const bool predicts_x0 = card_.prediction == "x0";
    const auto as_velocity = [&](const torch::Tensor& out, const torch::Tensor& xt, double t) {
        if (!predicts_x0) return out;
        return velocity_from_x0(xt, out,
                                torch::full({1}, t / 1000.0, torch::TensorOptions().device(device_)));
    };
    // The step preview: the clean estimate x0 = x_t − σ·v (σ as as_velocity clamped it, so an x0 model's
    // preview is its own prediction) of the latent frame under the middle output frame, decoded alone.
    const int64_t source_frames = condition ? condition->source_frames : 0;  // decoded frames
    const int64_t middle_frame = source_frames + (p.frames - source_frames) / 2;
    const int64_t preview_latent = std::min<int64_t>(
        refs + codec_->latent_frames(middle_frame + stride[0]) - 1, lt - 1);  // its latent frame
    const auto send_preview = [&](const torch::Tensor& xt, const torch::Tensor& v, double t, int step) {
        const double sigma = predicts_x0 ? std::max(t / 1000.0, kMinPredictionSigma) : t / 1000.0;
        torch::Tensor x0 = (xt - sigma * v).narrow(2, preview_latent, 1);  // [1, C, 1, h, w]
        if (condition) {
            const torch::Tensor known = condition->known.to(device_).narrow(2, preview_latent, 1);
            x0 = x0 * (1.0 - known) + condition->clean.narrow(2, preview_latent, 1) * known;
        }
        const core::Video frame =
            tensor_to_video(codec_->decode(x0)[0].narrow(1, 0, 1), p.fps);  // [3, 1, H, W]
        request.step_preview(step + 1, p.steps, frame);
    };
    const int64_t frame_tokens = (h / dit_->config().patch[1]) * (w / dit_->config().patch[2]);
    const torch::Tensor vace_context = vace ? vace->context : torch::Tensor();
    const auto dit = [&](const torch::Tensor& xin, double t) {
        const auto f32 = torch::TensorOptions().dtype(torch::kFloat32).device(device_);
        if (!first_latent.defined())
            return dit_->forward(xin, torch::full({xin.size(0)}, t, f32), context, clip_fea, image_y,
                                 vace_context);
        // Per-token timesteps (Wan2.2): 0 on the given frame's tokens, t on the rest.
        torch::Tensor tt = torch::full({xin.size(0), local.tokens}, t, f32);
        tt.narrow(1, 0, frame_tokens).zero_();
        return dit_->forward(xin, tt, context, clip_fea, image_y, vace_context);
    };
    const TimestepVelocityFn velocity = [&](const torch::Tensor& xt, double t, int step) {
        torch::Tensor v;
        if (!use_cfg) {
            v = finish(as_velocity(dit(model_input(xt), t), xt, t));
        } else {
            const torch::Tensor both = dit(model_input(torch::cat({xt, xt}, 0)), t);
            v = finish(as_velocity(apply_cfg(both.narrow(0, 0, 1), both.narrow(0, 1, 1), p.guidance), xt, t));
        }
        // Each solver calls the model once per step, so this is once per step, after the step's prediction.
        if (request.step_preview) send_preview(xt, v, t, step);
        return v;
    };
    start = Clock::now();
    const core::ProgressFn step_progress = [&](int64_t done, int64_t, const std::string& label) {
        report(static_cast<int>(done) + 1, label);
    };
    auto sample = fl::inference::sample(*kind, x, p.steps, p.shift, velocity, request.cancel, step_progress);
    if (!sample) return sample.error();
    local.sampling_seconds = seconds_since(start);
    local.seconds_per_step = local.sampling_seconds / p.steps;
    torch::Tensor latent = *sample;
    if (first_latent.defined()) latent.narrow(2, 0, 1).copy_(first_latent);
    int64_t skip_frames = 0;  // the extension source's frames at the start of the output
    if (condition) {
        const torch::Tensor known = condition->known.to(device_);
        latent = (latent * (1.0 - known) + condition->clean * known).narrow(2, refs, lt - refs);
        skip_frames = condition->source_frames;
    } else if (vace) {
        latent = latent.narrow(2, refs, lt - refs);  // reference frames are not output
        skip_frames = vace->source_frames;
    }

    start = Clock::now();
    // Decoded a temporal chunk at a time and turned into RGB8 frames at once: the float video of a long
    // clip is never held whole.
    core::Video video;
    video.fps = p.fps;
    if (skip_frames > 0 && request.media.keep_source) {
        // The whole source first, at the output's size, then the continuation.
        for (const auto& frame : request.media.extend_source.frames) {
            core::Video one = tensor_to_video(frame_to_tensor(frame, p.height, p.width).unsqueeze(1), p.fps);
            video.frames.push_back(std::move(one.frames.front()));
        }
    }
    int64_t decoded = 0;
    codec_->decode_chunks(latent, [&](const torch::Tensor& pixels) {  // [1, 3, f, H, W]
        core::Video part = tensor_to_video(pixels[0], p.fps);
        for (auto& frame : part.frames) {
            const int64_t index = decoded++;
            if (index >= skip_frames && index < p.frames) video.frames.push_back(std::move(frame));
        }
    });
    local.decode_seconds = seconds_since(start);
    report(total_units, "decoded");
    local.peak_rss_bytes = peak_rss_bytes();
    if (stats) *stats = local;
    return video;
}

core::Result<std::unique_ptr<Generator>> Generator::load(const ModelCard& card, const DevicePolicy& policy) {
    try {
        auto pipeline = WanPipeline::load(card, policy);
        if (!pipeline) return pipeline.error();
        return std::unique_ptr<Generator>(std::move(*pipeline));
    } catch (const std::exception& e) {
        // Torch errors are converted at the module edge.
        return core::fail_from("cannot load model '" + card.id + "': ", e);
    }
}

int64_t peak_rss_bytes() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmHWM:", 0) == 0) {
            std::istringstream in(line.substr(6));
            int64_t kb = 0;
            in >> kb;
            return kb * 1024;
        }
    }
    return 0;
}

}  // namespace fl::inference
