#include "frameloom/inference/device.h"

#include <torch/torch.h>

#include "inference/torch_device.h"

#include <thread>

namespace fl::inference {

bool cuda_available() { return torch::cuda::is_available(); }

torch::Device use_device(const DevicePolicy& resolved) {
    if (resolved.device == DeviceKind::CUDA) return torch::Device(torch::kCUDA);
    torch::set_num_threads(resolved.cpu_threads);
    return torch::Device(torch::kCPU);
}

core::Result<DeviceKind> parse_device(const std::string& text) {
    if (text == "cpu") return DeviceKind::CPU;
    if (text == "cuda" || text == "gpu") return DeviceKind::CUDA;
    if (text == "auto") return DeviceKind::Auto;
    return core::fail("unknown device '" + text + "': use cpu, cuda or auto");
}

core::Result<DevicePolicy> DevicePolicy::resolve() const {
    DevicePolicy out = *this;
    if (out.device == DeviceKind::Auto) out.device = cuda_available() ? DeviceKind::CUDA : DeviceKind::CPU;
    if (out.device == DeviceKind::CUDA && !cuda_available())
        return core::fail("CUDA requested but this build or machine has no CUDA device: use --device cpu");
    // On CUDA the big products run in bf16; on CPU fp32 keeps results bit-reproducible across machines.
    if (out.precision == Precision::Auto) out.precision = out.device == DeviceKind::CUDA ? Precision::BF16 : Precision::F32;
    if (out.cpu_threads <= 0) out.cpu_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    return out;
}

std::string DevicePolicy::describe() const {
    std::string d = device == DeviceKind::CUDA ? "cuda" : device == DeviceKind::CPU ? "cpu" : "auto";
    std::string p = precision == Precision::BF16 ? "bf16" : precision == Precision::F32 ? "f32" : "auto";
    return d + "/" + p;
}

}  // namespace fl::inference
