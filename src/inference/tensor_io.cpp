#include "inference/tensor_io.h"

#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>

namespace fl::inference {

namespace {

/// fp8 E4M3 ("fn": bias 7, no infinities, S.1111.111 is NaN) → f32.
float fp8_e4m3_to_float(uint8_t v) {
    const bool neg = (v & 0x80) != 0;
    const int exp = (v >> 3) & 0xf;
    const int man = v & 0x7;
    float out;
    if (exp == 0xf && man == 0x7) out = std::numeric_limits<float>::quiet_NaN();
    else if (exp == 0) out = std::ldexp(static_cast<float>(man) / 8.0f, -6);
    else out = std::ldexp(1.0f + static_cast<float>(man) / 8.0f, exp - 7);
    return neg ? -out : out;
}

/// fp8 E5M2 (IEEE-like: bias 15, infinities and NaNs) → f32.
float fp8_e5m2_to_float(uint8_t v) {
    const bool neg = (v & 0x80) != 0;
    const int exp = (v >> 2) & 0x1f;
    const int man = v & 0x3;
    float out;
    if (exp == 0x1f) out = man == 0 ? std::numeric_limits<float>::infinity() : std::numeric_limits<float>::quiet_NaN();
    else if (exp == 0) out = std::ldexp(static_cast<float>(man) / 4.0f, -14);
    else out = std::ldexp(1.0f + static_cast<float>(man) / 4.0f, exp - 15);
    return neg ? -out : out;
}

/// The 256 values of an fp8 format, built once.
const std::array<float, 256>& fp8_table(DType dtype) {
    static const auto e4m3 = [] {
        std::array<float, 256> t{};
        for (int i = 0; i < 256; ++i) t[i] = fp8_e4m3_to_float(static_cast<uint8_t>(i));
        return t;
    }();
    static const auto e5m2 = [] {
        std::array<float, 256> t{};
        for (int i = 0; i < 256; ++i) t[i] = fp8_e5m2_to_float(static_cast<uint8_t>(i));
        return t;
    }();
    return dtype == DType::F8_E4M3 ? e4m3 : e5m2;
}

torch::ScalarType scalar_type(DType dtype) {
    switch (dtype) {
        case DType::F32: return torch::kFloat32;
        case DType::F16: return torch::kFloat16;
        case DType::BF16: return torch::kBFloat16;
        case DType::F64: return torch::kFloat64;
        case DType::I64: return torch::kInt64;
        case DType::I32: return torch::kInt32;
        case DType::I16: return torch::kInt16;
        case DType::I8: return torch::kInt8;
        case DType::U8: return torch::kUInt8;
        case DType::Bool: return torch::kBool;
        case DType::F8_E4M3:
        case DType::F8_E5M2: return torch::kFloat32;  // upcast: LibTorch 1.13 has no fp8
    }
    return torch::kFloat32;
}

}  // namespace

std::string shape_text(c10::IntArrayRef shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) {
        if (i) s.push_back(',');
        s.append(std::to_string(shape[i]));
    }
    s.push_back(']');
    return s;
}

core::Result<torch::Tensor> read_tensor(const SafeTensorsFile& file, const TensorInfo& info) {
    const uint8_t* src = file.data(info);
    const auto options = torch::TensorOptions().dtype(scalar_type(info.dtype));
    if (info.dtype == DType::F8_E4M3 || info.dtype == DType::F8_E5M2) {
        torch::Tensor out = torch::empty(info.shape, options);
        const auto& table = fp8_table(info.dtype);
        float* dst = out.data_ptr<float>();
        for (uint64_t i = 0; i < info.nbytes; ++i) dst[i] = table[src[i]];
        return out;
    }
    if (info.dtype == DType::Bool) {
        // Any non-zero byte is true; copying raw bytes into a bool tensor could hold values other than 0/1.
        torch::Tensor raw = torch::empty(info.shape, torch::TensorOptions().dtype(torch::kUInt8));
        if (info.nbytes) std::memcpy(raw.data_ptr(), src, info.nbytes);
        return raw.ne(0);
    }
    torch::Tensor out = torch::empty(info.shape, options);
    if (info.nbytes) std::memcpy(out.data_ptr(), src, info.nbytes);
    return out;
}

core::Result<torch::Tensor> read_tensor(const SafeTensorsFile& file, const std::string& name) {
    const TensorInfo* info = file.find(name);
    if (!info) return core::fail("tensor '" + name + "' not found in " + file.path().string());
    return read_tensor(file, *info);
}

core::Result<void> fill_module(torch::nn::Module& module, const ModuleFill& fill, const std::string& prefix,
                               bool strict) {
    std::set<std::string> used;
    auto load_one = [&](const std::string& name, torch::Tensor& target) -> core::Result<void> {
        const std::string key = prefix + name;
        const TensorInfo* info = fill.find(key);
        if (!info)
            return core::fail("weights do not fit the model: '" + key + "' is missing from " + fill.where +
                              " (is this the right model file?)");
        if (!target.sizes().equals(info->shape)) {
            const std::string in = fill.file_of ? fill.file_of(key) : std::string("the file");
            return core::fail("weights do not fit the model: '" + key + "' is " + shape_text(info->shape) + " in " +
                              in + ", the model expects " + shape_text(target.sizes()));
        }
        torch::NoGradGuard no_grad;
        FL_TRY(fill.copy(key, *info, target));
        used.insert(key);
        return core::ok();
    };
    for (auto& item : module.named_parameters(/*recurse=*/true)) FL_TRY(load_one(item.key(), item.value()));
    for (auto& item : module.named_buffers(/*recurse=*/true)) FL_TRY(load_one(item.key(), item.value()));
    if (!strict) return core::ok();
    std::vector<std::string> extra;
    for (const auto& name : fill.keys)
        if (name.compare(0, prefix.size(), prefix) == 0 && !used.count(name)) extra.push_back(name);
    if (extra.empty()) return core::ok();
    std::string list;
    for (size_t i = 0; i < extra.size() && i < 3; ++i) list.append(i ? ", '" : "'").append(extra[i]).push_back('\'');
    if (extra.size() > 3) list += " and " + std::to_string(extra.size() - 3) + " more";
    return core::fail("weights do not fit the model: " + fill.where + " holds " + list +
                      " that the model does not have (wrong architecture or config?)");
}

core::Result<void> load_module(torch::nn::Module& module, const SafeTensorsFile& file, const std::string& prefix,
                               bool strict) {
    ModuleFill fill;
    fill.where = file.path().string();
    fill.find = [&](const std::string& key) { return file.find(key); };
    fill.copy = [&](const std::string&, const TensorInfo& info, torch::Tensor& target) -> core::Result<void> {
        const bool direct = info.dtype != DType::Bool && info.dtype != DType::F8_E4M3 && info.dtype != DType::F8_E5M2 &&
                            scalar_type(info.dtype) == target.scalar_type() && target.device().is_cpu() &&
                            target.is_contiguous();
        if (direct) {
            // Same dtype on CPU: one copy straight from the mapping (halves peak memory for big checkpoints).
            if (info.nbytes) std::memcpy(target.data_ptr(), file.data(info), info.nbytes);
            return core::ok();
        }
        auto value = read_tensor(file, info);
        if (!value) return value.error();
        target.copy_(value->to(target.scalar_type()));
        return core::ok();
    };
    for (const auto& t : file.tensors()) fill.keys.push_back(t.name);
    return fill_module(module, fill, prefix, strict);
}

TensorBlob to_blob(const std::string& name, const torch::Tensor& t) {
    TensorBlob blob;
    blob.name = name;
    switch (t.scalar_type()) {
        case torch::kFloat32: blob.dtype = DType::F32; break;
        case torch::kFloat16: blob.dtype = DType::F16; break;
        case torch::kBFloat16: blob.dtype = DType::BF16; break;
        case torch::kFloat64: blob.dtype = DType::F64; break;
        case torch::kInt64: blob.dtype = DType::I64; break;
        case torch::kInt32: blob.dtype = DType::I32; break;
        case torch::kInt16: blob.dtype = DType::I16; break;
        case torch::kInt8: blob.dtype = DType::I8; break;
        case torch::kUInt8: blob.dtype = DType::U8; break;
        case torch::kBool: blob.dtype = DType::Bool; break;
        default: TORCH_CHECK(false, "to_blob: tensor '", name, "' has a dtype safetensors cannot hold: ", t.scalar_type());
    }
    const torch::Tensor c = t.detach().to(torch::kCPU).contiguous();
    blob.shape.assign(c.sizes().begin(), c.sizes().end());
    const size_t nbytes = static_cast<size_t>(c.numel()) * c.element_size();
    blob.bytes.resize(nbytes);
    if (nbytes) std::memcpy(blob.bytes.data(), c.data_ptr(), nbytes);
    return blob;
}

std::vector<TensorBlob> module_blobs(const torch::nn::Module& module, const std::string& prefix) {
    std::vector<TensorBlob> out;
    for (const auto& item : module.named_parameters(/*recurse=*/true)) out.push_back(to_blob(prefix + item.key(), item.value()));
    for (const auto& item : module.named_buffers(/*recurse=*/true)) out.push_back(to_blob(prefix + item.key(), item.value()));
    return out;
}

}  // namespace fl::inference
