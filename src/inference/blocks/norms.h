#pragma once
/// Norms as the Wan reference runs them: statistics in fp32, learned affine applied afterwards.

#include <torch/torch.h>

namespace fl::inference {

/// RMSNorm over the last dim (all heads together for Wan's q/k norms): x·rsqrt(mean(x²)+eps)·weight, fp32.
torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& weight, double eps);

/// LayerNorm over the last dim in fp32; weight/bias may be undefined (no affine).
torch::Tensor layer_norm_f32(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                             double eps);

/// A learned RMSNorm scale registered as `weight` [dim], so checkpoint keys read `<name>.weight`.
class RMSNormImpl : public torch::nn::Module {
public:
    RMSNormImpl(int64_t dim, double eps);
    /// x: [..., dim] → fp32 [..., dim]
    torch::Tensor forward(const torch::Tensor& x) const { return rms_norm(x, weight, eps_); }
    torch::Tensor weight;

private:
    double eps_;
};
TORCH_MODULE(RMSNorm);

/// LayerNorm with affine parameters `weight`, `bias` [dim] (uninitialised until loaded).
class AffineLayerNormImpl : public torch::nn::Module {
public:
    AffineLayerNormImpl(int64_t dim, double eps);
    /// x: [..., dim] → fp32 [..., dim]
    torch::Tensor forward(const torch::Tensor& x) const { return layer_norm_f32(x, weight, bias, eps_); }
    torch::Tensor weight, bias;

private:
    double eps_;
};
TORCH_MODULE(AffineLayerNorm);

}  // namespace fl::inference
