#include "inference/blocks/norms.h"

namespace fl::inference {

torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& weight, double eps) {
    const torch::Tensor xf = x.to(torch::kFloat);
    return xf * torch::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true) + eps) * weight.to(torch::kFloat);
}

torch::Tensor layer_norm_f32(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                             double eps) {
    const int64_t dim = x.size(-1);
    return torch::layer_norm(x.to(torch::kFloat), {dim}, weight.defined() ? weight.to(torch::kFloat) : weight,
                             bias.defined() ? bias.to(torch::kFloat) : bias, eps);
}

RMSNormImpl::RMSNormImpl(int64_t dim, double eps) : eps_(eps) {
    weight = register_parameter("weight", torch::ones({dim}));
}

AffineLayerNormImpl::AffineLayerNormImpl(int64_t dim, double eps) : eps_(eps) {
    weight = register_parameter("weight", torch::ones({dim}));
    bias = register_parameter("bias", torch::zeros({dim}));
}

}  // namespace fl::inference
