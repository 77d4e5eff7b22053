#include "inference/sampler.h"

#include <algorithm>
#include <exception>
#include <string>

namespace fl::inference {

double shift_sigma(double sigma, double shift) { return shift * sigma / (1.0 + (shift - 1.0) * sigma); }

std::vector<double> euler_sigmas(int steps, double shift) {
    if (steps <= 0) return {1.0, 0.0};
    std::vector<double> sigmas(static_cast<size_t>(steps) + 1);
    for (int i = 0; i <= steps; ++i)
        sigmas[static_cast<size_t>(i)] = shift_sigma(1.0 - static_cast<double>(i) / steps, shift);
    // Endpoints exactly: shift fixes 0 and 1, but keep them free of rounding.
    sigmas.front() = 1.0;
    sigmas.back() = 0.0;
    return sigmas;
}

torch::Tensor velocity_from_x0(const torch::Tensor& xt, const torch::Tensor& x0, const torch::Tensor& sigma) {
    return (xt - x0) / sigma.clamp_min(kMinPredictionSigma);
}

torch::Tensor apply_cfg(const torch::Tensor& v_cond, const torch::Tensor& v_uncond, double guidance) {
    return v_uncond + guidance * (v_cond - v_uncond);
}

namespace detail {

core::Result<torch::Tensor> call_velocity(const TimestepVelocityFn& velocity, const torch::Tensor& x,
                                          double timestep, int step, int steps) {
    torch::Tensor v;
    try {
        v = velocity(x, timestep, step);
    } catch (const c10::Error& e) {
        return core::fail("sampling failed at step " + std::to_string(step + 1) + "/" +
                          std::to_string(steps) + ": " + e.what_without_backtrace());
    } catch (const std::exception& e) {
        return core::fail("sampling failed at step " + std::to_string(step + 1) + "/" +
                          std::to_string(steps) + ": " + e.what());
    }
    if (!v.defined() || v.sizes() != x.sizes())
        return core::fail("sampling failed at step " + std::to_string(step + 1) +
                          ": the model returned a velocity of the wrong shape");
    return v;
}

std::vector<double> linspace_head(double start, double stop, int steps) {
    // numpy: step = (stop − start)/div; y_i = i·step + start (endpoint replaced by stop, which [:N] drops).
    std::vector<double> out(static_cast<size_t>(std::max(steps, 0)));
    const double step = (stop - start) / static_cast<double>(steps);
    for (int i = 0; i < steps; ++i) out[static_cast<size_t>(i)] = static_cast<double>(i) * step + start;
    return out;
}

FlowPoint flow_point(float sigma) {
    FlowPoint p;
    p.sigma = torch::scalar_tensor(sigma, torch::kFloat32);
    p.alpha = 1 - p.sigma;
    p.lambda = torch::log(p.alpha) - torch::log(p.sigma);
    return p;
}

FlowSchedule flow_schedule(const std::vector<double>& unshifted, double shift) {
    FlowSchedule s;
    for (const double u : unshifted) {
        const double sigma = shift * u / (1.0 + (shift - 1.0) * u);  // float64, as numpy
        s.sigmas.push_back(static_cast<float>(sigma));
        s.timesteps.push_back(static_cast<int64_t>(sigma * 1000.0));  // truncation, as .to(torch.int64)
    }
    s.sigmas.push_back(0.0f);
    return s;
}

/// Euler with an after-step hook; sample_euler is this without one.
core::Result<torch::Tensor> euler_loop(torch::Tensor x, const std::vector<double>& sigmas,
                                       const VelocityFn& velocity, const core::CancelFn& cancel,
                                       const core::ProgressFn& progress, const StepHook& after_step) {
    if (sigmas.size() < 2) return core::fail("sampler needs at least two sigmas (one step)");
    if (!velocity) return core::fail("sampler has no velocity function");
    const int steps = static_cast<int>(sigmas.size()) - 1;
    torch::NoGradGuard no_grad;
    const TimestepVelocityFn by_sigma = [&](const torch::Tensor& xt, double sigma, int i) {
        return velocity(xt, sigma, i);
    };
    for (int i = 0; i < steps; ++i) {
        if (cancel && cancel()) return core::fail(core::kCancelledMessage);
        const double s = sigmas[static_cast<size_t>(i)], s_next = sigmas[static_cast<size_t>(i) + 1];
        auto v = call_velocity(by_sigma, x, s, i, steps);
        if (!v) return v.error();
        x = x + (s_next - s) * *v;  // x: same shape as the latent
        if (after_step) after_step(i, x);
        if (progress) progress(i + 1, steps, "step " + std::to_string(i + 1) + "/" + std::to_string(steps));
    }
    return x;
}

}  // namespace detail

core::Result<torch::Tensor> sample_euler(torch::Tensor x, const std::vector<double>& sigmas,
                                         const VelocityFn& velocity, const core::CancelFn& cancel,
                                         const core::ProgressFn& progress) {
    return detail::euler_loop(std::move(x), sigmas, velocity, cancel, progress, {});
}

core::Result<SamplerKind> parse_sampler(const std::string& name) {
    if (name == "euler") return SamplerKind::Euler;
    if (name == "unipc") return SamplerKind::UniPC;
    if (name == "dpm++") return SamplerKind::DPMpp2M;
    return core::fail("unknown sampler '" + name + "': use euler, unipc or dpm++");
}

const char* to_string(SamplerKind kind) {
    switch (kind) {
        case SamplerKind::Euler:
            return "euler";
        case SamplerKind::UniPC:
            return "unipc";
        case SamplerKind::DPMpp2M:
            return "dpm++";
    }
    return "euler";
}

core::Result<torch::Tensor> sample(SamplerKind kind, torch::Tensor x, int steps, double shift,
                                   const TimestepVelocityFn& velocity, const core::CancelFn& cancel,
                                   const core::ProgressFn& progress, const StepHook& after_step) {
    if (steps <= 0) return core::fail("sampler needs at least one step (got " + std::to_string(steps) + ")");
    if (!velocity) return core::fail("sampler has no velocity function");
    switch (kind) {
        case SamplerKind::Euler: {
            const VelocityFn by_sigma = [&](const torch::Tensor& xt, double sigma, int i) {
                return velocity(xt, sigma_to_timestep(sigma), i);
            };
            return detail::euler_loop(std::move(x), euler_sigmas(steps, shift), by_sigma, cancel, progress,
                                      after_step);
        }
        case SamplerKind::UniPC:
            return sample_unipc(std::move(x), unipc_schedule(steps, shift), velocity, cancel, progress,
                                after_step);
        case SamplerKind::DPMpp2M:
            return sample_dpmpp_2m(std::move(x), dpmpp_schedule(steps, shift), velocity, cancel, progress,
                                   after_step);
    }
    return core::fail("unknown sampler");
}

}  // namespace fl::inference
