// DPM++ 2M for flow matching, as Wan's FlowDPMSolverMultistepScheduler with --sample_solver dpm++
// (dpmsolver++, midpoint, solver_order 2, final σ = 0). reference/wan.md §5.5.
//
// Coefficients are 0-dim fp32 CPU tensors computed in the reference's order. σ_0 = 1 makes λ_0 = −∞; IEEE
// arithmetic then gives the right limits (e^{−h} = 0 on step 0, 1/r0 = 0 on step 1), as in the reference.
#include <algorithm>
#include <string>

#include "inference/sampler.h"

namespace fl::inference {
namespace {

using torch::Tensor;

using detail::FlowPoint;
using detail::flow_point;

}  // namespace

FlowSchedule dpmpp_schedule(int steps, double shift) {
    return detail::flow_schedule(detail::linspace_head(1.0, 0.0, std::max(steps, 1)), shift);
}

core::Result<Tensor> sample_dpmpp_2m(Tensor x, const FlowSchedule& schedule,
                                     const TimestepVelocityFn& velocity, const core::CancelFn& cancel,
                                     const core::ProgressFn& progress, const StepHook& after_step) {
    const int n = static_cast<int>(schedule.timesteps.size());
    if (n < 1 || schedule.sigmas.size() != schedule.timesteps.size() + 1)
        return core::fail("DPM++ needs N timesteps and N+1 sigmas (got " +
                          std::to_string(schedule.timesteps.size()) + " and " +
                          std::to_string(schedule.sigmas.size()) + ")");
    if (!velocity) return core::fail("sampler has no velocity function");
    torch::NoGradGuard no_grad;
    x = x.to(torch::kFloat32);
    const auto point = [&](int i) { return flow_point(schedule.sigmas[static_cast<size_t>(i)]); };

    Tensor m0, m1;  // the newest and the previous x0 prediction
    for (int i = 0; i < n; ++i) {
        if (cancel && cancel()) return core::fail(core::kCancelledMessage);
        auto v = detail::call_velocity(velocity, x,
                                       static_cast<double>(schedule.timesteps[static_cast<size_t>(i)]), i, n);
        if (!v) return v.error();
        try {
            const Tensor sigma =
                torch::scalar_tensor(schedule.sigmas[static_cast<size_t>(i)], torch::kFloat32);
            m1 = m0;
            m0 = x - sigma * v->to(torch::kFloat32);  // x0 prediction: x − σ·v
            const FlowPoint t = point(i + 1), s0 = point(i);
            const Tensor h = t.lambda - s0.lambda;
            const Tensor phi = t.alpha * (torch::exp(-h) - 1.0);  // α_t·(e^{−h} − 1)
            if (i == 0 || i == n - 1) {
                // First order: x' = (σ_t/σ_s)·x − α_t(e^{−h}−1)·m0.
                x = (t.sigma / s0.sigma) * x - phi * m0;
            } else {
                // Second order (midpoint): D1 = (m0 − m1)/r0, x' = first order − 0.5·α_t(e^{−h}−1)·D1.
                const FlowPoint s1 = point(i - 1);
                const Tensor h_0 = s0.lambda - s1.lambda;
                const Tensor r0 = h_0 / h;
                const Tensor d1 = (1.0 / r0) * (m0 - m1);
                x = (t.sigma / s0.sigma) * x - phi * m0 - (0.5 * phi) * d1;
            }
        } catch (const c10::Error& e) {
            return core::fail("sampling failed at step " + std::to_string(i + 1) + "/" + std::to_string(n) +
                              ": " + e.what_without_backtrace());
        }
        if (after_step) after_step(i, x);
        if (progress) progress(i + 1, n, "step " + std::to_string(i + 1) + "/" + std::to_string(n));
    }
    return x;
}

}  // namespace fl::inference
