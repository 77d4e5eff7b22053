#pragma once
/// Flow-matching sampling (x_σ = (1−σ)·x0 + σ·ε, model predicts v = ε − x0) with shift and CFG:
/// Euler, and the Wan reference's UniPC (bh2) and DPM++ 2M solvers (reference/wan.md §5).

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "frameloom/core/cancel.h"
#include "frameloom/core/result.h"

namespace fl::inference {

/// σ' = s·σ / (1 + (s−1)·σ)
double shift_sigma(double sigma, double shift);

/// N+1 sigmas for Euler: shift(linspace(1, 0, N+1)), so σ_0 = 1 and σ_N = 0.
std::vector<double> euler_sigmas(int steps, double shift);

/// The model's timestep for a sigma (σ·1000).
inline double sigma_to_timestep(double sigma) { return sigma * 1000.0; }

/// Velocity at (x, σ) for step index i; the caller applies CFG inside.
using VelocityFn = std::function<torch::Tensor(const torch::Tensor& x, double sigma, int step)>;

/// Smallest σ that x0-prediction divides by (below it the velocity would amplify the model's error).
inline constexpr double kMinPredictionSigma = 0.05;

/// The flow velocity of an x0-predicting model: x_t = (1 − σ)·x0 + σ·n gives v = n − x0 = (x_t − x̂0)/σ,
/// with σ clamped to kMinPredictionSigma. `sigma` is a scalar or broadcasts against x_t ([B, 1, 1, 1, 1]).
torch::Tensor velocity_from_x0(const torch::Tensor& xt, const torch::Tensor& x0, const torch::Tensor& sigma);

/// Classifier-free guidance: v_u + g·(v_c − v_u).
torch::Tensor apply_cfg(const torch::Tensor& v_cond, const torch::Tensor& v_uncond, double guidance);

/// Integrates x from σ_0 to σ_N: x ← x + (σ_{i+1} − σ_i)·v. Checks cancel before every step, reports
/// progress after each. Returns the sample at σ_N (the clean estimate).
core::Result<torch::Tensor> sample_euler(torch::Tensor x, const std::vector<double>& sigmas,
                                         const VelocityFn& velocity, const core::CancelFn& cancel = {},
                                         const core::ProgressFn& progress = {});

/// Velocity at (x, model timestep) for step index i; the caller applies CFG inside.
using TimestepVelocityFn = std::function<torch::Tensor(const torch::Tensor& x, double timestep, int step)>;

/// Called after step i with the new sample; may replace it (Wan2.2 image-to-video re-applies the first
/// frame's latent after every step). The solver's own history is not changed.
using StepHook = std::function<void(int step, torch::Tensor& x)>;

/// A discrete flow schedule as the reference schedulers hold it: fp32 sigmas (N+1, last 0) and the
/// model's int64 timesteps (N).
struct FlowSchedule {
    std::vector<float> sigmas;       ///< σ_0 … σ_N, σ_N = 0
    std::vector<int64_t> timesteps;  ///< t_i = int64(σ_i·1000), from the float64 σ before rounding to fp32
};

namespace detail {
/// Calls the velocity for step i of n, converting throws and wrong shapes into errors that name the step.
core::Result<torch::Tensor> call_velocity(const TimestepVelocityFn& velocity, const torch::Tensor& x,
                                          double timestep, int step, int steps);
/// numpy.linspace(start, stop, num)[:num-1] exactly as numpy computes it (i·step + start in float64).
std::vector<double> linspace_head(double start, double stop, int steps);
/// Shifts float64 sigmas, then stores them as fp32 with σ_N = 0 appended and t_i = int64(σ_i·1000).
FlowSchedule flow_schedule(const std::vector<double>& unshifted, double shift);
/// The reference's view of σ for the multistep solvers: α = 1 − σ and λ = ln α − ln σ, all 0-dim fp32.
struct FlowPoint {
    torch::Tensor alpha, sigma, lambda;
};
FlowPoint flow_point(float sigma);
}  // namespace detail

/// The solvers `sample` can run.
enum class SamplerKind { Euler, UniPC, DPMpp2M };

/// "euler" | "unipc" | "dpm++" → kind; anything else is an error naming the accepted values.
core::Result<SamplerKind> parse_sampler(const std::string& name);
/// The name parse_sampler accepts.
const char* to_string(SamplerKind kind);

/// FlowUniPCMultistepScheduler.set_timesteps(N, shift): σ_i = shift(linspace(fp32(0.999), 0, N+1)[:N]).
FlowSchedule unipc_schedule(int steps, double shift);
/// Wan's dpm++ schedule: σ_i = shift(linspace(1, 0, N+1)[:N]), so σ_0 = 1 exactly (t_0 = 1000).
FlowSchedule dpmpp_schedule(int steps, double shift);

/// UniPC multistep (bh2, order 2, predict_x0, lower_order_final, corrector on), coefficients computed as fp32
/// scalar tensors exactly as the reference (reference/wan.md §5.4). The velocity gets the integer t_i.
core::Result<torch::Tensor> sample_unipc(torch::Tensor x, const FlowSchedule& schedule,
                                         const TimestepVelocityFn& velocity,
                                         const core::CancelFn& cancel = {},
                                         const core::ProgressFn& progress = {},
                                         const StepHook& after_step = {});

/// DPM++ 2M (dpmsolver++, midpoint, first order on the first and last step; §5.5). The velocity gets t_i.
core::Result<torch::Tensor> sample_dpmpp_2m(torch::Tensor x, const FlowSchedule& schedule,
                                            const TimestepVelocityFn& velocity,
                                            const core::CancelFn& cancel = {},
                                            const core::ProgressFn& progress = {},
                                            const StepHook& after_step = {});

/// Runs `kind` for `steps` steps with `shift`. Euler uses euler_sigmas and passes t = σ·1000 unrounded (as
/// sample_euler always has); UniPC and DPM++ build their schedules above and pass the truncated t_i.
core::Result<torch::Tensor> sample(SamplerKind kind, torch::Tensor x, int steps, double shift,
                                   const TimestepVelocityFn& velocity, const core::CancelFn& cancel = {},
                                   const core::ProgressFn& progress = {}, const StepHook& after_step = {});

}  // namespace fl::inference
