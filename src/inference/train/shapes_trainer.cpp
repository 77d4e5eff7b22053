#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <deque>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>

#include "frameloom/core/atomic_file.h"
#include "frameloom/core/shapes_world.h"
#include "frameloom/inference/train.h"
#include "inference/frame_conditioning.h"
#include "inference/patch_codec.h"
#include "inference/sampler.h"
#include "inference/tensor_io.h"
#include "inference/torch_device.h"
#include "inference/train/noise_levels.h"
#include "inference/wan_parts.h"

namespace fl::inference {
namespace {

namespace shapes = core::shapes;
using Clock = std::chrono::steady_clock;

constexpr const char* kStateFormat = "frameloom-train-state";
constexpr double kBeta1 = 0.9, kBeta2 = 0.999, kAdamEps = 1e-8;
constexpr int kWarmupSteps = 50;

/// Every trainable tensor of the model under one name space: "text_encoder.<key>", "dit.<key>".
struct Trainable {
    int adam_start =
        0;  ///< step AdamW's moments were last started from (bias correction and warm-up count from it)
    std::vector<std::string> names;
    std::vector<torch::Tensor> params;
    std::vector<torch::Tensor> adam_m, adam_v, ema;
};

Trainable collect(WanParts& parts) {
    Trainable t;
    const auto add = [&](const torch::nn::Module& module, const std::string& prefix) {
        for (const auto& item : module.named_parameters(/*recurse=*/true)) {
            t.names.push_back(prefix + item.key());
            t.params.push_back(item.value());
        }
    };
    add(*parts.t5, "text_encoder.");
    add(*parts.dit, "dit.");
    torch::NoGradGuard no_grad;
    for (const auto& p : t.params) {
        t.adam_m.push_back(torch::zeros_like(p));
        t.adam_v.push_back(torch::zeros_like(p));
        t.ema.push_back(p.detach().clone());
    }
    return t;
}

/// A training batch for one step: the clips of the step's plan (plan_training_step), rendered and encoded.
struct Batch {
    torch::Tensor x0;          // [B, C, F', h, w] latent of rendered clips (F' = F + reference frames)
    torch::Tensor object;      // [B, C, F', h, w] 1 where the pixel is the object's (not the background)
    FrameCondition condition;  // known / reference flags; clean = x0 on known frames
    std::vector<std::string> prompts;  // paraphrases, or "" for the CFG dropout share
};

double uniform(std::mt19937_64& rng, double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(rng);
}

/// A still image of the scene's object (same colour and shape) at a random place, size and background.
shapes::Scene reference_scene(const shapes::Scene& scene, std::mt19937_64& rng) {
    shapes::Scene ref = scene;
    ref.motion = shapes::Motion::Still;
    ref.travel = 0.0;
    ref.background =
        static_cast<shapes::Background>(std::uniform_int_distribution<int>(0, shapes::kBackgrounds - 1)(rng));
    ref.size = uniform(rng, 0.15, 0.30);
    ref.start_x = uniform(rng, ref.size / 2 + 0.02, 1.0 - ref.size / 2 - 0.02);
    ref.start_y = uniform(rng, ref.size / 2 + 0.02, 1.0 - ref.size / 2 - 0.02);
    return ref;
}

/// A clip of a motion-drill step: a red circle on dark green with the motion (and size, start, travel) of a
/// random training scene, redrawn until the combination is a training one (only "still" is held out).
shapes::Scene drill_scene(std::mt19937_64& rng) {
    for (;;) {
        shapes::Scene s = shapes::random_scene(rng, shapes::Split::Train);
        s.colour = shapes::Colour::Red;
        s.shape = shapes::Shape::Circle;
        s.background = shapes::Background::DarkGreen;
        if (!shapes::is_held_out(s.combination())) return s;
    }
}

Batch make_batch(const TrainOptions& o, const VideoCodec& codec, int step, int64_t ref_group) {
    const TrainingStepPlan plan = plan_training_step(o, step);
    const int64_t refs = plan.reference_step ? ref_group : 0, total = refs + o.frames;
    std::vector<torch::Tensor> clips, masks;
    torch::Tensor known = torch::zeros({o.batch, 1, total, 1, 1});
    torch::Tensor ref = torch::zeros({o.batch, 1, total, 1, 1});
    Batch batch;
    for (int i = 0; i < o.batch; ++i) {
        const TrainingSample& sample = plan.samples[static_cast<size_t>(i)];
        const shapes::Scene& scene = sample.scene;
        torch::Tensor clip =
            video_to_tensor(shapes::render(scene, o.width, o.height, o.frames, {8, 1}));  // [3, F, H, W]
        auto k = known[i][0];
        switch (sample.mode) {
            case TrainingMode::Text:
                break;
            case TrainingMode::FirstFrame:
                k[refs].fill_(1.0);
                break;
            case TrainingMode::Keyframes:
                k[refs].fill_(1.0);
                k[total - 1].fill_(1.0);
                break;
            case TrainingMode::Extend:
                k.narrow(0, refs, sample.given_frames).fill_(1.0);
                break;
            case TrainingMode::Reference: {
                std::vector<torch::Tensor> group,
                    frames;  // each image rendered once, repeated over the group
                for (const shapes::Scene& r : sample.references)
                    group.push_back(
                        video_to_tensor(shapes::render(r, o.width, o.height, 1, {8, 1})));  // [3, 1, H, W]
                for (int64_t g = 0; g < refs; ++g)
                    frames.push_back(group[static_cast<size_t>(g) % group.size()]);
                frames.push_back(clip);
                clip = torch::cat(frames, 1);
                k.narrow(0, 0, refs).fill_(1.0);
                ref[i][0].narrow(0, 0, refs).fill_(1.0);
                break;
            }
        }
        batch.prompts.push_back(sample.prompt);
        // The object's pixels: everything not exactly the background's colour (edges included).
        const shapes::Rgb bg = shapes::rgb(scene.background);
        const torch::Tensor bg_value =
            torch::tensor({bg.r / 127.5 - 1.0, bg.g / 127.5 - 1.0, bg.b / 127.5 - 1.0}, torch::kFloat32)
                .view({3, 1, 1, 1});
        masks.push_back(
            (clip - bg_value).abs().amax(0, /*keepdim=*/true).gt(0.01).to(torch::kFloat32).expand_as(clip));
        clips.push_back(clip);
    }
    batch.x0 = codec.encode(torch::stack(clips));
    batch.object = codec.encode(torch::stack(masks));  // the patch codec only rearranges pixels
    batch.condition.known = known;
    batch.condition.ref = ref;
    batch.condition.ref_frames = refs;
    batch.condition.clean = batch.x0 * known;
    return batch;
}

core::Result<void> save_state(const Trainable& t, int step, const TrainOptions& o, double loss) {
    std::vector<TensorBlob> blobs;
    blobs.reserve(t.names.size() * 4);
    for (size_t i = 0; i < t.names.size(); ++i) {
        blobs.push_back(to_blob("param." + t.names[i], t.params[i].detach()));
        blobs.push_back(to_blob("adam_m." + t.names[i], t.adam_m[i]));
        blobs.push_back(to_blob("adam_v." + t.names[i], t.adam_v[i]));
        blobs.push_back(to_blob("ema." + t.names[i], t.ema[i]));
    }
    char loss_text[32], cap_text[32];
    std::snprintf(loss_text, sizeof loss_text, "%.6f", loss);
    std::snprintf(cap_text, sizeof cap_text, "%.17g", o.loss_cap);
    return write_safetensors(o.checkpoint, blobs,
                             {{"format", kStateFormat},
                              {"step", std::to_string(step)},
                              {"seed", std::to_string(o.seed)},
                              {"batch", std::to_string(o.batch)},
                              {"loss", loss_text},
                              {"loss_cap", cap_text},
                              {"object_weight", std::to_string(o.object_weight)},
                              {"adam_start", std::to_string(t.adam_start)}});
}

/// Reads a training state into `t`; returns the step it was saved at. Seed and batch come from the state.
core::Result<int> load_state(Trainable& t, TrainOptions& o) {
    auto file = SafeTensorsFile::open(o.resume);
    if (!file) return file.error();
    const auto& meta = file->metadata();
    const auto field = [&](const char* key) -> std::string {
        const auto it = meta.find(key);
        return it == meta.end() ? std::string() : it->second;
    };
    if (field("format") != kStateFormat)
        return core::fail(o.resume.string() +
                          " is not a Frameloom training state: pass a file written by `frameloom train`");
    try {
        o.seed = std::stoull(field("seed"));
        o.batch = std::stoi(field("batch"));
        const int step = std::stoi(field("step"));
        torch::NoGradGuard no_grad;
        for (size_t i = 0; i < t.names.size(); ++i) {
            for (auto [prefix_text, dst] :
                 {std::pair{"param.", &t.params[i]}, std::pair{"adam_m.", &t.adam_m[i]},
                  std::pair{"adam_v.", &t.adam_v[i]}, std::pair{"ema.", &t.ema[i]}}) {
                const std::string prefix = prefix_text;
                auto tensor = read_tensor(*file, prefix + t.names[i]);
                if (!tensor) return core::fail("training state does not fit this model: " + tensor.message());
                if (tensor->sizes() != dst->sizes())
                    return core::fail("training state does not fit this model: '" + prefix + t.names[i] +
                                      "' has another shape");
                dst->copy_(*tensor);
            }
        }
        // States from before the cap was recorded were trained on the plain v-loss.
        const std::string cap_field = field("loss_cap");
        const double saved_cap = cap_field.empty() ? 0.0 : std::stod(cap_field);
        t.adam_start = field("adam_start").empty() ? 0 : std::stoi(field("adam_start"));
        if (saved_cap != o.loss_cap) {
            // Another loss weighting has gradients of another scale: AdamW's second moments would hold the
            // steps back for a thousand steps, so its moments start again (with a fresh warm-up).
            for (size_t i = 0; i < t.params.size(); ++i) {
                t.adam_m[i].zero_();
                t.adam_v[i].zero_();
            }
            t.adam_start = step;
        }
        return step;
    } catch (const std::exception&) {
        return core::fail(o.resume.string() + ": training state metadata is damaged (step/seed/batch)");
    }
}

/// Decoupled AdamW with linear warm-up and a cosine decay to a tenth over the run, then the EMA update.
void optimiser_step(Trainable& t, const TrainOptions& o, int step) {
    torch::NoGradGuard no_grad;
    const double progress = std::min(1.0, static_cast<double>(step) / std::max(1, o.steps));
    const double decay = 0.1 + 0.9 * 0.5 * (1.0 + std::cos(M_PI * progress));
    const int adam_steps = step - t.adam_start + 1;
    const double lr = o.learning_rate * decay * std::min(1.0, static_cast<double>(adam_steps) / kWarmupSteps);
    const double bc1 = 1.0 - std::pow(kBeta1, adam_steps), bc2 = 1.0 - std::pow(kBeta2, adam_steps);
    const double ema = std::min(o.ema_decay, (1.0 + step) / (10.0 + step));
    for (size_t i = 0; i < t.params.size(); ++i) {
        torch::Tensor& p = t.params[i];
        const torch::Tensor g = p.grad();
        if (!g.defined()) continue;
        t.adam_m[i].mul_(kBeta1).add_(g, 1.0 - kBeta1);
        t.adam_v[i].mul_(kBeta2).addcmul_(g, g, 1.0 - kBeta2);
        if (p.dim() >= 2) p.mul_(1.0 - lr * o.weight_decay);  // no decay on biases, norms, modulation
        const torch::Tensor denom = (t.adam_v[i] / bc2).sqrt_().add_(kAdamEps);
        p.addcdiv_(t.adam_m[i], denom, -lr / bc1);
        t.ema[i].mul_(ema).add_(p, 1.0 - ema);
        p.mutable_grad() = torch::Tensor();
    }
}

}  // namespace

torch::Tensor draw_noise_levels(const TrainOptions& o, at::Generator& gen) {
    const torch::Tensor u = torch::rand({o.batch}, gen, torch::kFloat32);
    const torch::Tensor shifted = o.shift * u / (1.0 + (o.shift - 1.0) * u);
    if (o.low_noise_share <= 0.0) return shifted;  // no second draw, so earlier runs resume bit-exactly
    const torch::Tensor low = torch::rand({o.batch}, gen, torch::kFloat32) < o.low_noise_share;
    return torch::where(low, u * kLowNoiseTop, shifted);
}

TrainingStepPlan plan_training_step(const TrainOptions& o, int step) {
    std::mt19937_64 rng(o.seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(step));
    std::uniform_real_distribution<double> coin(0.0, 1.0);
    TrainingStepPlan plan;
    plan.motion_drill =
        o.motion_drill_share >= 1.0 || (o.motion_drill_share > 0.0 && coin(rng) < o.motion_drill_share);
    // A step trains either reference images (every sample has a reference group, so one sequence length) or
    // the frame modes mixed.
    plan.reference_step = coin(rng) < o.reference_share;
    // Text only, first frame, keyframes, extension: the first-frame share as asked, the rest 8 : 3 : 5.
    const double rest = 1.0 - o.first_frame_share;
    const double text_below = rest * 0.5, first_below = text_below + o.first_frame_share,
                 keys_below = first_below + rest * 0.1875;
    for (int i = 0; i < o.batch; ++i) {
        TrainingSample sample;
        const double r = coin(rng);
        sample.mode = plan.reference_step ? TrainingMode::Reference
                      : r < text_below    ? TrainingMode::Text
                      : r < first_below   ? TrainingMode::FirstFrame
                      : r < keys_below    ? TrainingMode::Keyframes
                                          : TrainingMode::Extend;
        sample.scene = plan.motion_drill ? drill_scene(rng) : shapes::random_scene(rng, shapes::Split::Train);
        if (sample.mode == TrainingMode::Extend) {
            // A clip being continued can be anywhere on its path, so the object may leave the frame.
            const double half = sample.scene.size / 2.0 + 0.02;
            sample.scene.start_x = uniform(rng, half, 1.0 - half);
            sample.scene.start_y = uniform(rng, half, 1.0 - half);
        }
        sample.prompt = shapes::paraphrase(sample.scene, rng);
        if (sample.mode == TrainingMode::Extend)
            sample.given_frames = std::min(std::uniform_int_distribution<int>(2, 8)(rng), std::max(1, o.frames - 1));
        if (sample.mode == TrainingMode::Reference) {
            const int images = std::uniform_int_distribution<int>(1, 2)(rng);
            for (int g = 0; g < images; ++g) sample.references.push_back(reference_scene(sample.scene, rng));
            if (coin(rng) < 0.6) sample.prompt = shapes::paraphrase_unnamed(sample.scene, rng);
        }
        if (coin(rng) < o.text_dropout) sample.prompt.clear();
        plan.samples.push_back(std::move(sample));
    }
    return plan;
}

core::Result<TrainResult> train_shapes(const ModelCard& card, const TrainOptions& requested) {
    TrainOptions o = requested;
    if (o.steps < 1) return core::fail("--steps must be at least 1");
    if (o.batch < 1) return core::fail("batch must be at least 1");
    if (o.checkpoint.empty()) return core::fail("a checkpoint path is required: pass --checkpoint FILE");
    if (o.width % 16 || o.height % 16 || o.frames < 1)
        return core::fail("training size must be multiples of 16 with at least one frame");
    if (card.conditioning != "frame-mask" || card.codec != "patch")
        return core::fail("model '" + card.id +
                          "' cannot be trained on the shapes world: it needs the patch codec and "
                          "frame-mask conditioning (make one with `frameloom init-model`)");
    auto policy = o.policy.resolve();
    if (!policy) return policy.error();
    try {
        auto parts = load_wan_parts(card);
        if (!parts) return parts.error();
        const torch::Device device = use_device(*policy);
        parts->t5->to(device);
        parts->dit->to(device);
        parts->t5->train();
        parts->dit->train();
        Trainable t = collect(*parts);

        TrainResult result;
        if (!o.resume.empty()) {
            auto step = load_state(t, o);
            if (!step) return step.error();
            result.first_step = *step;
        }
        std::ofstream log;
        if (!o.loss_log.empty()) {
            const bool fresh = o.resume.empty();
            log.open(o.loss_log, fresh ? std::ios::trunc : std::ios::app);
            if (!log) return core::fail("cannot write the loss log " + o.loss_log.string());
            if (fresh) log << "step,loss,seconds\n";
        }
        const int64_t text_len = parts->dit->config().text_len;
        const auto start = Clock::now();
        std::deque<double> recent;
        double loss_value = 0.0;
        int step = result.first_step;
        for (; step < o.steps; ++step) {
            if (o.cancel && o.cancel()) {
                FL_TRY(save_state(t, step, o, loss_value));
                return core::fail(core::kCancelledMessage);
            }
            const Batch batch = make_batch(o, *parts->codec, step, parts->dit->config().patch[0]);
            auto gen =
                at::make_generator<at::CPUGeneratorImpl>(o.seed ^ (0xD1B54A32D192ED03ULL * (step + 1)));
            const torch::Tensor x0 = batch.x0.to(device);
            const torch::Tensor noise = torch::randn(batch.x0.sizes(), gen, torch::kFloat32).to(device);
            const torch::Tensor sigma = draw_noise_levels(o, gen).to(device);  // [B]
            const torch::Tensor s = sigma.view({-1, 1, 1, 1, 1});
            const torch::Tensor xt = (1.0 - s) * x0 + s * noise;
            const torch::Tensor target = noise - x0;  // the velocity the model learns

            const torch::Tensor context =
                encode_prompts(parts->tokenizer, *parts->t5, batch.prompts, text_len).to(device);
            FrameCondition condition = batch.condition;
            condition.positions = card.position_channels;
            condition.clean = condition.clean.to(device);
            const torch::Tensor out =
                parts->dit->forward(frame_mask_input(xt, condition), sigma * 1000.0, context);
            // An x0-predicting model is trained on the velocity it implies (x-prediction, v-loss), whose
            // error is the x0 error weighted by 1/σ²; with a cap the weight is min(1/σ², cap): v-loss ·
            // min(1, cap·σ²).
            const bool x0_model = card.prediction == "x0";
            const torch::Tensor pred = x0_model ? velocity_from_x0(xt, out, s) : out;
            const torch::Tensor sample_weight = x0_model && o.loss_cap > 0.0
                                                    ? (s.pow(2) * o.loss_cap).clamp_max(1.0)
                                                    : torch::ones_like(s);  // [B, 1, 1, 1, 1]
            // The loss covers the frames the model has to make: not the given ones, not the references.
            const torch::Tensor frames_made =
                (1.0 - condition.known.to(device)).expand({x0.size(0), 1, x0.size(2), 1, 1});
            const double per_frame = static_cast<double>(x0.size(1) * x0.size(3) * x0.size(4));
            // Object pixels weigh `object_weight` times the background's: a small object is a few percent of
            // the frame, and a model that has only learned the background already has most of the loss.
            const torch::Tensor pixel_weight = batch.object.to(device) * (o.object_weight - 1.0) + 1.0;
            const torch::Tensor loss =
                ((pred - target).pow(2) * frames_made * sample_weight * pixel_weight).sum() /
                (frames_made.sum() * per_frame);
            loss.backward();
            optimiser_step(t, o, step);

            loss_value = loss.item<double>();
            recent.push_back(loss_value);
            if (recent.size() > 100) recent.pop_front();
            const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
            if (log) log << step + 1 << "," << loss_value << "," << elapsed << "\n" << std::flush;
            if (o.progress) {
                char label[48];
                std::snprintf(label, sizeof label, "loss %.4f", loss_value);
                o.progress(step + 1, o.steps, label);
            }
            if ((step + 1) % o.checkpoint_every == 0 && step + 1 < o.steps)
                FL_TRY(save_state(t, step + 1, o, loss_value));
        }
        FL_TRY(save_state(t, step, o, loss_value));
        result.last_step = step;
        result.last_loss = loss_value;
        result.mean_loss_last_100 = recent.empty() ? 0.0
                                                   : std::accumulate(recent.begin(), recent.end(), 0.0) /
                                                         static_cast<double>(recent.size());
        result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
        return result;
    } catch (const std::exception& e) {
        return core::fail_from("training failed: ", e);
    }
}

core::Result<ModelCard> export_trained_model(const ModelCard& card, const std::filesystem::path& checkpoint,
                                             const std::string& command) {
    auto state = SafeTensorsFile::open(checkpoint);
    if (!state) return state.error();
    const auto meta = state->metadata();
    if (!meta.count("format") || meta.at("format") != kStateFormat)
        return core::fail(checkpoint.string() + " is not a Frameloom training state");
    auto parts = load_wan_parts(card);
    if (!parts) return parts.error();

    const auto write_part = [&](const torch::nn::Module& module, const std::string& prefix,
                                const std::string& role) -> core::Result<void> {
        std::vector<TensorBlob> blobs;
        for (const auto& item : module.named_parameters(true)) {
            auto tensor = read_tensor(*state, "ema." + prefix + item.key());
            if (!tensor) return tensor.error();
            blobs.push_back(to_blob(item.key(), tensor->to(torch::kFloat32)));
        }
        for (const auto& item : module.named_buffers(true))
            blobs.push_back(to_blob(item.key(), item.value()));
        auto original = SafeTensorsFile::open(card.file(role));
        if (!original) return original.error();
        return write_safetensors(card.file(role), blobs, original->metadata());
    };
    FL_TRY(write_part(*parts->t5, "text_encoder.", "text_encoder"));
    FL_TRY(write_part(*parts->dit, "dit.", "dit"));

    std::ifstream in(card.card_path);
    nlohmann::ordered_json json;
    try {
        in >> json;
    } catch (const std::exception& e) {
        return core::fail("cannot read model card " + card.card_path.string() + ": " + e.what());
    }
    json["trained"] = true;
    json["training"] = {
        {"command", command},
        {"steps", std::stoi(meta.count("step") ? meta.at("step") : "0")},
        {"final_loss", std::stod(meta.count("loss") ? meta.at("loss") : "0")},
        {"weights", "exponential moving average of the training weights"},
        {"data",
         "shapes world rendered on the fly (core/shapes_world): 336 training combinations of colour x "
         "shape x motion x background (84 held out), random size/start/travel, paraphrased prompts; "
         "text-only, first-frame, keyframe, extension and reference-image samples mixed"}};
    if (meta.count("batch")) json["training"]["batch"] = std::stoi(meta.at("batch"));
    FL_TRY(core::write_file_atomically(card.card_path, json.dump(2) + "\n"));
    return load_model_card(card.card_path);
}

}  // namespace fl::inference
