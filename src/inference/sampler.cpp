#include "inference/sampler.h"

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

torch::Tensor apply_cfg(const torch::Tensor& v_cond, const torch::Tensor& v_uncond, double guidance) {
    return v_uncond + guidance * (v_cond - v_uncond);
}

core::Result<torch::Tensor> sample_euler(torch::Tensor x, const std::vector<double>& sigmas,
                                         const VelocityFn& velocity, const core::CancelFn& cancel,
                                         const core::ProgressFn& progress) {
    if (sigmas.size() < 2) return core::fail("sampler needs at least two sigmas (one step)");
    if (!velocity) return core::fail("sampler has no velocity function");
    const int steps = static_cast<int>(sigmas.size()) - 1;
    torch::NoGradGuard no_grad;
    for (int i = 0; i < steps; ++i) {
        if (cancel && cancel()) return core::fail(core::kCancelledMessage);
        const double s = sigmas[static_cast<size_t>(i)], s_next = sigmas[static_cast<size_t>(i) + 1];
        torch::Tensor v;
        try {
            v = velocity(x, s, i);
        } catch (const c10::Error& e) {
            return core::fail("sampling failed at step " + std::to_string(i + 1) + "/" +
                              std::to_string(steps) + ": " + e.what_without_backtrace());
        } catch (const std::exception& e) {
            return core::fail("sampling failed at step " + std::to_string(i + 1) + "/" +
                              std::to_string(steps) + ": " + e.what());
        }
        if (!v.defined() || v.sizes() != x.sizes())
            return core::fail("sampling failed at step " + std::to_string(i + 1) +
                              ": the model returned a velocity of the wrong shape");
        x = x + (s_next - s) * v;  // x: same shape as the latent
        if (progress) progress(i + 1, steps, "step " + std::to_string(i + 1) + "/" + std::to_string(steps));
    }
    return x;
}

}  // namespace fl::inference
