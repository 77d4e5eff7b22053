// UniPC multistep for flow matching, as Wan's FlowUniPCMultistepScheduler (bh2, order 2, predict_x0,
// lower_order_final, corrector on). reference/wan.md §5.4.
//
// Every coefficient is a 0-dim fp32 CPU tensor built with the same ATen ops, in the same order, as the
// reference computes it, so the samples agree to the last bits rather than to fp32-vs-fp64 rounding.
#include <algorithm>
#include <string>

#include "inference/sampler.h"

namespace fl::inference {
namespace {

using torch::Tensor;

using detail::FlowPoint;
using detail::flow_point;

}  // namespace

FlowSchedule unipc_schedule(int steps, double shift) {
    // σ_max is the scheduler's fp32 sigmas[0] = 1 − 1/1000 read back as a double: 0.9990000128746033.
    const double sigma_max = static_cast<double>(static_cast<float>(1.0 - 0.001));
    return detail::flow_schedule(detail::linspace_head(sigma_max, 0.0, std::max(steps, 1)), shift);
}

core::Result<Tensor> sample_unipc(Tensor x, const FlowSchedule& schedule, const TimestepVelocityFn& velocity,
                                  const core::CancelFn& cancel, const core::ProgressFn& progress,
                                  const StepHook& after_step) {
    const int n = static_cast<int>(schedule.timesteps.size());
    if (n < 1 || schedule.sigmas.size() != schedule.timesteps.size() + 1)
        return core::fail("UniPC needs N timesteps and N+1 sigmas (got " +
                          std::to_string(schedule.timesteps.size()) + " and " +
                          std::to_string(schedule.sigmas.size()) + ")");
    if (!velocity) return core::fail("sampler has no velocity function");
    torch::NoGradGuard no_grad;
    x = x.to(torch::kFloat32);
    const auto point = [&](int i) { return flow_point(schedule.sigmas[static_cast<size_t>(i)]); };

    // Predictor (UniP-bh2) from σ_i to σ_{i+1}; m[1] = m_i, m[0] = m_{i−1}.
    // order 1: x' = (σ_t/σ_s)·x − α_t·(e^{−h}−1)·m_i; order 2 adds − α_t·B_h·0.5·(m_{i−1} − m_i)/r.
    const auto predict = [&](const Tensor& xs, const Tensor(&m)[2], int order, int i) {
        const FlowPoint t = point(i + 1), s0 = point(i);
        const Tensor h = t.lambda - s0.lambda;
        const Tensor hh = -h;
        const Tensor h_phi_1 = torch::expm1(hh);
        const Tensor b_h = torch::expm1(hh);
        const Tensor x_t_ = (t.sigma / s0.sigma) * xs - (t.alpha * h_phi_1) * m[1];
        if (order < 2) return x_t_;  // on the last step σ_t = 0: α_t = 1, h = ∞, φ = −1, so x' = m_i
        const FlowPoint s1 = point(i - 1);
        const Tensor rk = (s1.lambda - s0.lambda) / h;
        const Tensor d1 = (m[0] - m[1]) / rk;
        const Tensor pred_res =
            torch::scalar_tensor(0.5f, torch::kFloat32) * d1;  // rhos_p = [0.5] for order 2
        return x_t_ - (t.alpha * b_h) * pred_res;
    };

    // Corrector (UniC-bh2): recomputes σ_{i−1} → σ_i from `last` with the new model output m_t = m_i;
    // m[1] = m_{i−1}, m[0] = m_{i−2}.
    const auto correct = [&](const Tensor& m_t, const Tensor& last, const Tensor(&m)[2], int order, int i) {
        const FlowPoint t = point(i), s0 = point(i - 1);
        const Tensor h = t.lambda - s0.lambda;
        const Tensor hh = -h;
        const Tensor h_phi_1 = torch::expm1(hh);
        const Tensor b_h = torch::expm1(hh);
        const Tensor x_t_ = (t.sigma / s0.sigma) * last - (t.alpha * h_phi_1) * m[1];
        const Tensor d1_t = m_t - m[1];
        if (order < 2) {
            // rhos_c = [0.5]
            return x_t_ - (t.alpha * b_h) * (torch::scalar_tensor(0.5f, torch::kFloat32) * d1_t);
        }
        const FlowPoint s1 = point(i - 2);
        const Tensor rk = (s1.lambda - s0.lambda) / h;
        const Tensor d1 = (m[0] - m[1]) / rk;
        // b_k = h_phi_k·k!/B_h with h_phi_1 = φ/hh − 1, h_phi_2 = h_phi_1/hh − 1/2; R = [[1, 1], [r, 1]].
        Tensor h_phi_k = h_phi_1 / hh - 1;
        const Tensor b1 = h_phi_k * 1 / b_h;
        h_phi_k = h_phi_k / hh - 0.5;
        const Tensor b2 = h_phi_k * 2 / b_h;
        const Tensor rks = torch::stack({rk, torch::scalar_tensor(1.0f, torch::kFloat32)});
        const Tensor r = torch::stack({torch::pow(rks, 0), torch::pow(rks, 1)});  // [2, 2]
        const Tensor b = torch::stack({b1, b2});                                  // [2]
        const Tensor rhos = torch::linalg::solve(r, b, /*left=*/true);            // [2]
        const Tensor corr_res = rhos[0] * d1;
        return x_t_ - (t.alpha * b_h) * (corr_res + rhos[1] * d1_t);
    };

    Tensor m[2];  // the last two x0 predictions, oldest first
    Tensor last;
    int order_prev = 0, lower_order_nums = 0;
    for (int i = 0; i < n; ++i) {
        if (cancel && cancel()) return core::fail(core::kCancelledMessage);
        auto v = detail::call_velocity(velocity, x,
                                       static_cast<double>(schedule.timesteps[static_cast<size_t>(i)]), i, n);
        if (!v) return v.error();
        try {
            const Tensor sigma =
                torch::scalar_tensor(schedule.sigmas[static_cast<size_t>(i)], torch::kFloat32);
            const Tensor m_i = x - sigma * v->to(torch::kFloat32);  // x0 prediction: x − σ·v
            if (i > 0) x = correct(m_i, last, m, order_prev, i);
            m[0] = m[1];
            m[1] = m_i;
            const int order = std::min({2, n - i, lower_order_nums + 1});
            last = x;
            x = predict(x, m, order, i);
            lower_order_nums = std::min(lower_order_nums + 1, 2);
            order_prev = order;
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
