// Timing the released Wan configurations with random weights (frameloom bench --wan).
#include <malloc.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <thread>

#include "frameloom/inference/bench.h"
#include "inference/torch_device.h"
#include "inference/arch/wan/dit.h"
#include "inference/arch/wan/t5.h"
#include "inference/arch/wan/vae.h"
#include "inference/timing.h"

namespace fl::inference {
namespace {

/// Lets the next peak_rss_bytes() measure from now: freed heap goes back to the system (malloc_trim), then
/// writing 5 to clear_refs resets VmHWM to the current RSS (Linux).
void reset_peak_rss() {
    malloc_trim(0);
    std::ofstream("/proc/self/clear_refs") << "5";
}

void sync(const torch::Device& device) {
    if (device.is_cuda()) torch::cuda::synchronize();
}

/// Small uniform weights (values do not change the timing, but NaN or denormal garbage could).
void randomise(torch::nn::Module& module) {
    torch::NoGradGuard no_grad;
    for (auto& p : module.parameters()) p.uniform_(-0.02, 0.02);
}

struct Released {
    wan::WanDiTConfig dit;
    wan::WanVAEConfig vae;
};

core::Result<Released> released(const std::string& name) {
    Released r;  // WanDiTConfig's and WanVAEConfig's defaults are Wan2.1-1.3B's and Wan2.1's VAE
    if (name == "wan2.1-1.3b") {
    } else if (name == "wan2.1-14b") {
        r.dit.dim = 5120;
        r.dit.ffn_dim = 13824;
        r.dit.num_heads = 40;
        r.dit.num_layers = 40;
    } else if (name == "wan2.2-5b") {
        r.dit.model_type = "ti2v";
        r.dit.dim = 3072;
        r.dit.ffn_dim = 14336;
        r.dit.num_heads = 24;
        r.dit.num_layers = 30;
        r.dit.in_dim = r.dit.out_dim = 48;
        r.vae.layout = wan::WanVAEConfig::Layout::Wan22;
        r.vae.patch = 2;
        r.vae.dim = 160;
        r.vae.dec_dim = 256;
        r.vae.z_dim = 48;
    } else {
        return core::fail("unknown Wan configuration '" + name +
                          "': use wan2.1-1.3b, wan2.1-14b or wan2.2-5b");
    }
    FL_TRY(r.vae.resolve_latent_stats({}));
    return r;
}

/// Multiply-adds ×2 of the DiT's matrix products for one sample: projections, attention and FFN.
double dit_flops(const wan::WanDiTConfig& c, int64_t tokens) {
    const double l = static_cast<double>(tokens), lc = static_cast<double>(c.text_len),
                 d = static_cast<double>(c.dim);
    const double self_attn = 4.0 * l * d * d + 2.0 * l * l * d;
    const double cross_attn = 2.0 * l * d * d + 2.0 * lc * d * d + 2.0 * l * lc * d;
    const double ffn = 2.0 * l * d * static_cast<double>(c.ffn_dim);
    return 2.0 * static_cast<double>(c.num_layers) * (self_attn + cross_attn + ffn);
}

}  // namespace

core::Result<WanBenchReport> bench_wan_config(const WanBenchOptions& o, const DevicePolicy& requested) {
    auto policy = requested.resolve();
    if (!policy) return policy.error();
    auto config = released(o.config);
    if (!config) return config.error();
    FL_TRY(config->vae.check_video(o.frames, o.height, o.width));
    const int64_t s = config->vae.stride_s();
    if (o.width % (2 * s) || o.height % (2 * s))
        return core::fail("--size must be a multiple of " + std::to_string(2 * s) + " for " + o.config);
    if (o.steps < 1) return core::fail("--steps must be at least 1");
    const torch::Device device = use_device(*policy);
    const bool bf16 = policy->precision == Precision::BF16;
    WanBenchReport r;
    r.config = o.config;
    r.device = policy->describe();
    r.options = o;
    r.vae_tile = policy->vae_tile;
    torch::NoGradGuard no_grad;
    try {
        {  // The device's rate on one large product, the yardstick for the DiT's.
            const int64_t n = device.is_cuda() ? 8192 : 2048;
            const auto opts =
                torch::TensorOptions().device(device).dtype(bf16 ? torch::kBFloat16 : torch::kFloat);
            const torch::Tensor a = torch::rand({n, n}, opts), b = torch::rand({n, n}, opts);
            torch::matmul(a, b);
            sync(device);
            const int reps = device.is_cuda() ? 20 : 3;
            const auto start = Clock::now();
            for (int i = 0; i < reps; ++i) torch::matmul(a, b);
            sync(device);
            r.matmul_tflops = 2.0 * n * n * n * reps / seconds_since(start) / 1e12;
        }
        if (o.text) {  // umT5-XXL, bf16 on the CPU as the pipeline keeps it.
            reset_peak_rss();
            // Built in bf16 from the start: in fp32 the 5.7 B parameters would need 23 GB on the way.
            const auto default_dtype = torch::get_default_dtype();
            torch::set_default_dtype(caffe2::TypeMeta::Make<at::BFloat16>());
            std::optional<wan::T5Encoder> built;
            try {
                built.emplace(wan::T5Config{});
            } catch (...) {
                torch::set_default_dtype(default_dtype);
                throw;
            }
            torch::set_default_dtype(default_dtype);
            wan::T5Encoder t5 = *built;
            t5->to(torch::kBFloat16);  // anything the default did not reach
            randomise(*t5);
            const int64_t len = config->dit.text_len;
            const torch::Tensor ids = torch::randint(1, 1000, {2, len}, torch::kInt64);
            const torch::Tensor mask = torch::ones({2, len}, torch::kInt64);
            const auto start = Clock::now();
            t5->forward(ids, mask);
            r.text_seconds = seconds_since(start);
            r.text_peak_bytes = peak_rss_bytes();
        }
        const int64_t lt = config->vae.latent_frames(o.frames), h = o.height / s, w = o.width / s;
        if (o.dit) {
            reset_peak_rss();
            wan::WanDiT dit(config->dit, /*initialise=*/false);
            dit->set_precision(bf16 ? wan::DiTPrecision::BF16 : wan::DiTPrecision::F32);
            randomise(*dit);
            dit->to(device);
            for (const auto& p : dit->parameters()) r.dit_parameters += p.numel();
            const auto& c = config->dit;
            r.tokens = (lt / c.patch[0]) * (h / c.patch[1]) * (w / c.patch[2]);
            const auto f32 = torch::TensorOptions().device(device);
            const torch::Tensor x = torch::randn({2, c.in_dim, lt, h, w}, f32);
            const torch::Tensor context = torch::randn({2, c.text_len, c.text_dim}, f32);
            const torch::Tensor t = torch::full({2}, 500.0, f32);
            std::vector<double> steps;
            for (int i = 0; i <= o.steps; ++i) {  // the first is the warm-up
                const auto start = Clock::now();
                dit->forward(x, t, context);
                sync(device);
                if (i > 0) steps.push_back(seconds_since(start));
            }
            r.step_seconds = median(steps);
            r.step_tflops = 2.0 * dit_flops(c, r.tokens) / r.step_seconds / 1e12;
            r.dit_peak_bytes = peak_rss_bytes();
        }
        if (o.decode) {
            reset_peak_rss();
            wan::WanVAE vae(config->vae);
            randomise(*vae);
            vae->to(device);
            const torch::Tensor latent =
                torch::randn({1, config->vae.z_dim, lt, h, w}, torch::TensorOptions().device(device));
            const auto start = Clock::now();
            vae->decode_chunks(
                latent, [&](const torch::Tensor& pixels) { pixels.to(torch::kCPU); },
                policy->vae_tile / config->vae.stride_s());
            sync(device);
            r.decode_seconds = seconds_since(start);
            r.decode_peak_bytes = peak_rss_bytes();
        }
    } catch (const std::exception& e) {
        return core::fail_from("bench of " + o.config + " failed: ", e);
    }
    return r;
}

std::string format_wan_bench(const WanBenchReport& r) {
    char buf[320];
    std::string out;
    const auto& o = r.options;
    std::snprintf(buf, sizeof buf,
                  "%s (random weights, %.2f B DiT parameters) on %s (%u hardware threads): %dx%d, %d frames "
                  "→ %lld DiT tokens; CFG pair per step\n",
                  r.config.c_str(), static_cast<double>(r.dit_parameters) / 1e9, r.device.c_str(),
                  std::thread::hardware_concurrency(), o.width, o.height, o.frames,
                  static_cast<long long>(r.tokens));
    out += buf;
    out += "| measure | value |\n|---|---|\n";
    const auto mib = [](int64_t b) { return static_cast<double>(b) / (1024.0 * 1024.0); };
    if (o.text) {
        std::snprintf(buf, sizeof buf,
                      "| text encoding, umT5-XXL bf16 on CPU (2 × 512 tokens) | %.2f s, peak %.0f MiB |\n",
                      r.text_seconds, mib(r.text_peak_bytes));
        out += buf;
    }
    if (o.dit) {
        std::snprintf(buf, sizeof buf, "| DiT step (median of %d) | %.3f s, peak %.0f MiB host |\n", o.steps,
                      r.step_seconds, mib(r.dit_peak_bytes));
        out += buf;
        std::snprintf(
            buf, sizeof buf,
            "| DiT matrix work | %.2f TFLOP/s (%.0f%% of the device's %.2f TFLOP/s on one large product) |\n",
            r.step_tflops, r.matmul_tflops > 0 ? 100.0 * r.step_tflops / r.matmul_tflops : 0.0,
            r.matmul_tflops);
        out += buf;
    }
    if (o.decode) {
        std::snprintf(buf, sizeof buf, "| VAE decode (latent frame by frame%s) | %.2f s, peak %.0f MiB |\n",
                      r.vae_tile > 0 ? (", tiles of " + std::to_string(r.vae_tile) + " px").c_str() : "",
                      r.decode_seconds, mib(r.decode_peak_bytes));
        out += buf;
    }
    return out;
}

}  // namespace fl::inference
