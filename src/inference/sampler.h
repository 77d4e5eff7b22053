#pragma once
/// Flow-matching sampling (x_σ = (1−σ)·x0 + σ·ε, model predicts v = ε − x0) with shift and CFG.
/// Euler now; UniPC and DPM++ arrive with the Wan port.

#include <torch/torch.h>

#include <functional>
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

/// Classifier-free guidance: v_u + g·(v_c − v_u).
torch::Tensor apply_cfg(const torch::Tensor& v_cond, const torch::Tensor& v_uncond, double guidance);

/// Integrates x from σ_0 to σ_N: x ← x + (σ_{i+1} − σ_i)·v. Checks cancel before every step, reports
/// progress after each. Returns the sample at σ_N (the clean estimate).
core::Result<torch::Tensor> sample_euler(torch::Tensor x, const std::vector<double>& sigmas, const VelocityFn& velocity,
                                         const core::CancelFn& cancel = {}, const core::ProgressFn& progress = {});

}  // namespace fl::inference
