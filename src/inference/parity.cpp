#include "frameloom/inference/parity.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <sstream>

#include "frameloom/inference/safetensors.h"
#include "inference/arch/wan/clip.h"
#include "inference/arch/wan/config_util.h"
#include "inference/arch/wan/dit.h"
#include "inference/arch/wan/t5.h"
#include "inference/arch/wan/vae.h"
#include "inference/arch/wan/vae22.h"
#include "inference/sampler.h"
#include "inference/tensor_io.h"

namespace fl::inference {
namespace fs = std::filesystem;
using torch::Tensor;

namespace {

/// Named outputs in the order they are reported.
using Outputs = std::vector<std::pair<std::string, Tensor>>;

/// What a component runner gets: the io file, the weights file (when the component has one).
struct ParityInputs {
    const SafeTensorsFile& io;
    const SafeTensorsFile* weights = nullptr;
};

core::Result<std::string> metadata(const SafeTensorsFile& file, const std::string& key) {
    const auto it = file.metadata().find(key);
    if (it == file.metadata().end())
        return core::fail("parity: " + file.path().string() + " has no metadata \"" + key + "\"");
    return it->second;
}

core::Result<Tensor> input(const SafeTensorsFile& file, const std::string& name) {
    if (!file.find(name))
        return core::fail("parity: " + file.path().string() + " has no input tensor '" + name + "'");
    return read_tensor(file, name);
}

/// Wan DiT (t2v, Wan2.2 ti2v): x.i [C,F,H,W], context.i [L_i, text_dim] (zero-padded here to the longest),
/// t [B] or [B, seq_len] → out.i. Config from the weights' shapes and the "config" metadata.
/// Wan DiT (`vace`: with its VACE blocks): x.i [C, F, H, W], context.i [Lc, text_dim], t [B] (or [B, L]),
/// vace: vace_context.i [vace_in_dim, F, H, W] and metadata vace_scale (default 1) → out.i.
core::Result<Outputs> run_wan_dit(const ParityInputs& in, std::string& detail, bool vace) {
    std::map<std::string, std::vector<int64_t>> shapes;
    for (const auto& info : in.weights->tensors()) shapes[info.name] = info.shape;
    std::map<std::string, std::string> meta = in.io.metadata();
    for (const auto& [k, v] : in.weights->metadata()) meta[k] = v;  // the weights' own config wins
    auto config = wan::WanDiTConfig::from_shapes(shapes, meta);
    if (!config) return core::fail("parity: " + config.message());
    FL_TRY(config->validate());
    wan::WanDiT dit(*config, /*initialise=*/false);
    FL_TRY(load_module(*dit, *in.weights, config->prefix, /*strict=*/true));
    dit->eval();

    int64_t batch = 0;
    while (in.io.find("x." + std::to_string(batch))) ++batch;
    if (batch == 0) return core::fail("parity: " + in.io.path().string() + " has no input tensor 'x.0'");
    std::vector<Tensor> xs, contexts;
    int64_t longest = 0;
    for (int64_t i = 0; i < batch; ++i) {
        auto x = input(in.io, "x." + std::to_string(i));
        if (!x) return x.error();
        auto c = input(in.io, "context." + std::to_string(i));
        if (!c) return c.error();
        xs.push_back(x->to(torch::kFloat32));
        contexts.push_back(c->to(torch::kFloat32));
        longest = std::max(longest, c->size(0));
    }
    for (auto& c : contexts) {
        Tensor padded = torch::zeros({longest, c.size(1)});  // [Lc, text_dim]: rows past the prompt are zero
        padded.narrow(0, 0, c.size(0)).copy_(c);
        c = padded;
    }
    auto t = input(in.io, "t");
    if (!t) return t.error();
    Tensor vace_context;
    double vace_scale = 1.0;
    if (vace) {
        if (config->vace_in_dim == 0)
            return core::fail("parity: the vace golden's weights have no VACE blocks");
        std::vector<Tensor> vcs;
        for (int64_t i = 0; i < batch; ++i) {
            auto v = input(in.io, "vace_context." + std::to_string(i));
            if (!v) return v.error();
            vcs.push_back(v->to(torch::kFloat32));
        }
        vace_context = torch::stack(vcs);
        if (auto v = wan::meta_field(meta, "vace_scale")) {
            try {
                vace_scale = std::stod(*v);
            } catch (const std::exception&) {
                return core::fail("parity: metadata vace_scale is not a number: '" + *v + "'");
            }
        }
    }
    torch::NoGradGuard no_grad;
    const Tensor out = dit->forward(torch::stack(xs), t->to(torch::kFloat32), torch::stack(contexts),
                                    Tensor(), Tensor(), vace_context, vace_scale);  // [B,C,F,H,W]
    Outputs outputs;
    for (int64_t i = 0; i < batch; ++i) outputs.emplace_back("out." + std::to_string(i), out[i].contiguous());
    detail = config->model_type + ", batch " + std::to_string(batch);
    return outputs;
}

/// umT5 encoder: ids [B, L], mask [B, L] → out [B, L, dim] (final norm, every position).
core::Result<Outputs> run_umt5(const ParityInputs& in, std::string& detail) {
    auto config = wan::T5Config::from_weights(*in.weights);
    if (!config) return core::fail("parity: " + config.message());
    wan::T5Encoder t5(*config);
    FL_TRY(load_module(*t5, *in.weights));
    t5->eval();
    auto ids = input(in.io, "ids");
    if (!ids) return ids.error();
    auto mask = input(in.io, "mask");
    if (!mask) return mask.error();
    torch::NoGradGuard no_grad;
    const Tensor out = t5->forward(ids->to(torch::kInt64), mask->to(torch::kInt64));
    detail = std::to_string(config->num_layers) + " layers, batch " + std::to_string(ids->size(0));
    return Outputs{{"out", out.to(torch::kFloat32).contiguous()}};
}

/// `t` in the golden's own shape for `name` (the port may keep a batch axis the golden drops).
core::Result<Tensor> as_golden_shape(const SafeTensorsFile& io, const std::string& name, const Tensor& t) {
    const TensorInfo* golden = io.find(name);
    if (!golden) return t.contiguous();
    int64_t numel = 1;
    for (const int64_t d : golden->shape) numel *= d;
    if (numel != t.numel())
        return core::fail("parity: output '" + name + "' has " + std::to_string(t.numel()) +
                          " values, the golden " + std::to_string(numel));
    return t.reshape(golden->shape).contiguous();
}

/// Wan2.1 / Wan2.2 VAE: video [3,T,H,W] in [-1,1] → latent (normalised mu of the chunked causal encode)
/// and decoded (chunked decode of the golden's latent, before the clamp). latent_mean/latent_std come
/// from the io file, the architecture from the weights' shapes.
core::Result<Outputs> run_wan_vae(const ParityInputs& in, std::string& detail, bool v22) {
    auto config = v22 ? wan::wan22_vae_config(*in.weights) : wan::WanVAEConfig::from_weights(*in.weights);
    if (!config) return core::fail("parity: " + config.message());
    for (auto [name, field] :
         {std::pair{"latent_mean", &config->latent_mean}, std::pair{"latent_std", &config->latent_std}}) {
        auto stats = input(in.io, name);
        if (!stats) return stats.error();
        const Tensor d = stats->to(torch::kFloat64).contiguous();
        field->assign(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
    }
    FL_TRY(config->validate());
    wan::WanVAE vae(*config);
    FL_TRY(load_module(*vae, *in.weights, config->prefix));
    vae->eval();
    auto video = input(in.io, "video");
    if (!video) return video.error();
    auto latent_in = input(in.io, "latent");
    if (!latent_in) return latent_in.error();
    FL_TRY(config->check_video(video->size(1), video->size(2), video->size(3)));
    torch::NoGradGuard no_grad;
    const Tensor latent = vae->encode(video->to(torch::kFloat32).unsqueeze(0))[0];       // [z, T', h, w]
    const Tensor decoded = vae->decode(latent_in->to(torch::kFloat32).unsqueeze(0))[0];  // [3, T, H, W]
    detail = std::string(v22 ? "Wan2.2" : "Wan2.1") + " layout, z_dim " + std::to_string(config->z_dim) +
             ", " + std::to_string(video->size(1)) + " frames";
    return Outputs{{"latent", latent.contiguous()}, {"decoded", decoded.contiguous()}};
}

/// CLIP ViT visual tower: image [3,H,W] in [-1,1] → pixels (the reference preprocessing) and out (tokens
/// after all blocks but the last, no post-norm).
core::Result<Outputs> run_clip_vision(const ParityInputs& in, std::string& detail) {
    auto config = wan::CLIPVisionConfig::from_weights(*in.weights);
    if (!config) return core::fail("parity: " + config.message());
    wan::CLIPVision clip(*config);
    // The checkpoint also holds the last block, post_norm and head, which Wan never runs (strict off).
    FL_TRY(load_module(*clip, *in.weights, config->prefix, /*strict=*/false));
    clip->eval();
    auto image = input(in.io, "image");
    if (!image) return image.error();
    torch::NoGradGuard no_grad;
    const Tensor pixels = wan::clip_preprocess(image->to(torch::kFloat32), config->image_size);
    const Tensor out = clip->forward(pixels);
    auto pixels_out = as_golden_shape(in.io, "pixels", pixels);
    if (!pixels_out) return pixels_out.error();
    auto tokens = as_golden_shape(in.io, "out", out);
    if (!tokens) return tokens.error();
    detail = std::to_string(config->num_layers) + " layers, " + std::to_string(config->image_size) + " px";
    return Outputs{{"pixels", *pixels_out}, {"out", *tokens}};
}

/// UniPC on the synthetic field v(x, t) = 0.3·x + t/1000 (t the scheduler's integer timestep): timesteps,
/// sigmas and x.k, the sample after step k, from x_init.
core::Result<Outputs> run_flow_unipc(const ParityInputs& in, std::string& detail) {
    auto steps_text = metadata(in.io, "steps");
    if (!steps_text) return steps_text.error();
    auto shift_text = metadata(in.io, "shift");
    if (!shift_text) return shift_text.error();
    int steps = 0;
    double shift = 0.0;
    try {
        steps = std::stoi(*steps_text);
        shift = std::stod(*shift_text);
    } catch (const std::exception&) {
        return core::fail("parity: metadata steps '" + *steps_text + "' / shift '" + *shift_text +
                          "' are not numbers");
    }
    if (steps <= 0 || !(shift > 0.0)) return core::fail("parity: flow-unipc needs steps ≥ 1 and shift > 0");
    auto x_init = input(in.io, "x_init");
    if (!x_init) return x_init.error();

    const FlowSchedule schedule = unipc_schedule(steps, shift);
    Outputs outputs;
    std::vector<float> timesteps(schedule.timesteps.begin(), schedule.timesteps.end());
    outputs.emplace_back("timesteps", torch::tensor(timesteps, torch::kFloat32));
    outputs.emplace_back("sigmas", torch::tensor(schedule.sigmas, torch::kFloat32));
    const TimestepVelocityFn velocity = [](const Tensor& x, double t, int) {
        return 0.3 * x + static_cast<float>(t) / 1000.0f;  // t/1000 as an fp32 division, as the reference
    };
    const StepHook record = [&](int step, Tensor& x) {
        outputs.emplace_back("x." + std::to_string(step), x.clone());
    };
    auto result = sample_unipc(x_init->to(torch::kFloat32), schedule, velocity, {}, {}, record);
    if (!result) return result.error();
    std::ostringstream d;
    d << steps << " steps, shift " << shift;
    detail = d.str();
    return outputs;
}

struct Component {
    std::string name;
    bool has_weights = false;
    std::function<core::Result<Outputs>(const ParityInputs&, std::string&)> run;
};

const std::vector<Component>& components() {
    static const std::vector<Component> all = {
        {"wan-dit", true, [](const ParityInputs& in, std::string& d) { return run_wan_dit(in, d, false); }},
        {"vace", true, [](const ParityInputs& in, std::string& d) { return run_wan_dit(in, d, true); }},
        {"umt5-encoder", true, run_umt5},
        {"flow-unipc", false, run_flow_unipc},
        {"wan-vae", true, [](const ParityInputs& in, std::string& d) { return run_wan_vae(in, d, false); }},
        {"wan22-vae", true, [](const ParityInputs& in, std::string& d) { return run_wan_vae(in, d, true); }},
        {"clip-vision", true, run_clip_vision},
    };
    return all;
}

fs::path with_suffix(const fs::path& prefix, const std::string& suffix) {
    return fs::path(prefix.string() + suffix);
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
    if (a.numel() == 0) return 0.0;
    return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

core::Result<ParityReport> run_parity_impl(const fs::path& prefix_in, const fs::path& write_to) {
    fs::path prefix = prefix_in;
    if (const std::string s = prefix.string(); s.size() > 15 && s.ends_with(".io.safetensors"))
        prefix = s.substr(0, s.size() - 15);
    const fs::path io_path = with_suffix(prefix, ".io.safetensors");
    std::error_code ec;
    if (!fs::exists(io_path, ec))
        return core::fail("parity: " + io_path.string() +
                          " does not exist (give the golden's prefix, e.g. "
                          "tests/data/goldens/wan_dit_t2v_tiny)");
    auto io = SafeTensorsFile::open(io_path);
    if (!io) return io.error();
    const auto it = io->metadata().find("component");
    if (it == io->metadata().end())
        return core::fail("parity: " + io_path.string() + " has no \"component\" in its metadata");
    const std::string& name = it->second;

    const auto& all = components();
    const auto found =
        std::find_if(all.begin(), all.end(), [&](const Component& c) { return c.name == name; });
    if (found == all.end()) {
        const auto& pending = parity_components_pending();
        if (std::find(pending.begin(), pending.end(), name) != pending.end())
            return core::fail("parity: component '" + name + "' is not supported yet");
        return core::fail("parity: unknown component '" + name + "' in " + io_path.string());
    }
    std::optional<SafeTensorsFile> weights;
    if (found->has_weights) {
        const fs::path weights_path = with_suffix(prefix, ".weights.safetensors");
        if (!fs::exists(weights_path, ec))
            return core::fail("parity: component '" + name + "' needs " + weights_path.string() +
                              ", which is missing");
        auto w = SafeTensorsFile::open(weights_path);
        if (!w) return w.error();
        weights.emplace(std::move(*w));
    }

    ParityReport report;
    report.component = name;
    auto outputs = found->run(ParityInputs{*io, weights ? &*weights : nullptr}, report.detail);
    if (!outputs) return outputs.error();

    std::vector<TensorBlob> blobs;
    for (const auto& [tensor_name, tensor] : *outputs) {
        ParityOutput out;
        out.name = tensor_name;
        out.shape.assign(tensor.sizes().begin(), tensor.sizes().end());
        if (const TensorInfo* golden = io->find(tensor_name)) {
            if (golden->shape != out.shape)
                return core::fail("parity: output '" + tensor_name + "' has another shape than the golden's");
            auto expected = read_tensor(*io, *golden);
            if (!expected) return expected.error();
            out.max_abs_diff = max_abs_diff(tensor, *expected);
        }
        report.outputs.push_back(std::move(out));
        if (!write_to.empty()) blobs.push_back(to_blob(tensor_name, tensor));
    }
    if (!write_to.empty())
        FL_TRY(write_safetensors(write_to, blobs, {{"component", name}, {"golden", io_path.string()}}));
    return report;
}

}  // namespace

double ParityReport::max_abs_diff() const {
    double worst = 0.0;
    for (const auto& o : outputs)
        if (o.max_abs_diff) worst = std::max(worst, std::isnan(*o.max_abs_diff) ? INFINITY : *o.max_abs_diff);
    return worst;
}

const std::vector<std::string>& parity_components() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> n;
        for (const auto& c : components()) n.push_back(c.name);
        return n;
    }();
    return names;
}

const std::vector<std::string>& parity_components_pending() {
    static const std::vector<std::string> names;  // every golden component runs
    return names;
}

core::Result<ParityReport> run_parity(const fs::path& prefix, const fs::path& write_to) {
    try {
        return run_parity_impl(prefix, write_to);
    } catch (const std::exception& e) {
        // Torch errors (shape mismatches in a malformed golden) are converted at the module edge.
        return core::fail_from("parity: ", e);
    }
}

}  // namespace fl::inference
