#pragma once
/// Device and dtype are policies chosen by the caller, never globals.

#include <string>

#include "frameloom/core/result.h"

namespace fl::inference {

/// Where tensors live.
enum class DeviceKind { Auto, CPU, CUDA };

/// Precision of the big matrix products (norms, modulation, residual stream stay fp32).
enum class Precision { Auto, F32, BF16 };

/// What the caller asks for; resolve() turns Auto into a concrete choice for this machine.
struct DevicePolicy {
    DeviceKind device = DeviceKind::Auto;
    Precision precision = Precision::Auto;
    int cpu_threads = 0;  ///< 0 = all cores
    int vae_tile = 0;     ///< VAE decode in spatial tiles of about this many pixels (0 = whole frames)
    bool offload = false;  ///< keep the DiT's blocks in host memory, one on the device at a time (CUDA)

    /// Auto → CUDA when available, else CPU. Error when CUDA is requested but absent
    /// ("CUDA requested but this build/machine has none: use --device cpu").
    core::Result<DevicePolicy> resolve() const;
    /// "cpu/f32", "cuda/bf16"
    std::string describe() const;
};

/// Parses "cpu", "cuda" or "auto".
core::Result<DeviceKind> parse_device(const std::string& text);

/// True when this LibTorch build sees a CUDA device.
bool cuda_available();

}  // namespace fl::inference
