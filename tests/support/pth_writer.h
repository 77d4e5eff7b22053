#pragma once
/// Writes torch.save archives (.pth) for tests, byte for byte as PyTorch lays them out: a zip of stored
/// entries (data aligned to 64 bytes), `archive/data.pkl` (a protocol-2 pickle of an OrderedDict of
/// `torch._utils._rebuild_tensor_v2` calls) and one storage per tensor under `archive/data/<key>`.

#include <torch/torch.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "inference/zip_reader.h"

namespace fl::test {

using Bytes = std::vector<uint8_t>;

inline void put16(Bytes& b, uint32_t v) {
    b.push_back(static_cast<uint8_t>(v));
    b.push_back(static_cast<uint8_t>(v >> 8));
}
inline void put32(Bytes& b, uint32_t v) {
    put16(b, v & 0xFFFF);
    put16(b, v >> 16);
}

/// A minimal zip writer: stored entries, data aligned to 64 bytes with an extra field (as torch does).
struct ZipEntryIn {
    std::string name;
    Bytes data;
    uint16_t method = 0;
};
inline Bytes make_zip(const std::vector<ZipEntryIn>& entries) {
    Bytes out, central;
    for (const auto& e : entries) {
        const uint32_t offset = static_cast<uint32_t>(out.size());
        const uint32_t crc = inference::crc32_update(0, e.data.data(), e.data.size());
        const size_t header_end = out.size() + 30 + e.name.size() + 4;
        const uint16_t pad = static_cast<uint16_t>((64 - header_end % 64) % 64);
        put32(out, 0x04034b50);
        put16(out, 20);
        put16(out, 0);
        put16(out, e.method);
        put32(out, 0);
        put32(out, crc);
        put32(out, static_cast<uint32_t>(e.data.size()));
        put32(out, static_cast<uint32_t>(e.data.size()));
        put16(out, static_cast<uint32_t>(e.name.size()));
        put16(out, 4u + pad);
        out.insert(out.end(), e.name.begin(), e.name.end());
        put16(out, 0xFB46);  // padding record, as PyTorch's writer uses
        put16(out, pad);
        out.insert(out.end(), pad, 'Z');
        out.insert(out.end(), e.data.begin(), e.data.end());

        put32(central, 0x02014b50);
        put16(central, 20);
        put16(central, 20);
        put16(central, 0);
        put16(central, e.method);
        put32(central, 0);
        put32(central, crc);
        put32(central, static_cast<uint32_t>(e.data.size()));
        put32(central, static_cast<uint32_t>(e.data.size()));
        put16(central, static_cast<uint32_t>(e.name.size()));
        put16(central, 0);
        put16(central, 0);
        put16(central, 0);
        put16(central, 0);
        put32(central, 0);
        put32(central, offset);
        central.insert(central.end(), e.name.begin(), e.name.end());
    }
    const uint32_t cd_off = static_cast<uint32_t>(out.size());
    out.insert(out.end(), central.begin(), central.end());
    put32(out, 0x06054b50);
    put16(out, 0);
    put16(out, 0);
    put16(out, static_cast<uint32_t>(entries.size()));
    put16(out, static_cast<uint32_t>(entries.size()));
    put32(out, static_cast<uint32_t>(central.size()));
    put32(out, cd_off);
    put16(out, 0);
    return out;
}

/// Hand-assembled pickles with the opcodes torch.save (protocol 2) emits.
struct Pickler {
    Bytes b;
    uint32_t memo = 0;
    Pickler& op(uint8_t c) {
        b.push_back(c);
        return *this;
    }
    Pickler& proto() { return op(0x80).op(2); }
    Pickler& put() { return op('q').op(static_cast<uint8_t>(memo++)); }
    Pickler& global(const std::string& module, const std::string& name) {
        op('c');
        b.insert(b.end(), module.begin(), module.end());
        op('\n');
        b.insert(b.end(), name.begin(), name.end());
        return op('\n').put();
    }
    Pickler& str(const std::string& s) {
        op('X');
        put32(b, static_cast<uint32_t>(s.size()));
        b.insert(b.end(), s.begin(), s.end());
        return put();
    }
    Pickler& integer(int64_t v) {
        if (v >= 0 && v < 256) return op('K').op(static_cast<uint8_t>(v));
        if (v >= 0 && v < 65536) {
            op('M');
            put16(b, static_cast<uint32_t>(v));
            return *this;
        }
        op(0x8a).op(8);
        for (int i = 0; i < 8; ++i) op(static_cast<uint8_t>(static_cast<uint64_t>(v) >> (8 * i)));
        return *this;
    }
    Pickler& int_tuple(const std::vector<int64_t>& v) {
        if (v.empty()) return op(')');
        if (v.size() <= 3) {
            for (auto x : v) integer(x);
            return op(static_cast<uint8_t>(0x84 + v.size())).put();
        }
        op('(');
        for (auto x : v) integer(x);
        return op('t').put();
    }
    Pickler& ordered_dict() { return global("collections", "OrderedDict").op(')').op('R').put(); }
    /// _rebuild_tensor_v2(('storage', torch.<type>Storage, key, 'cpu', numel), offset, size, stride, False,
    /// OrderedDict())
    Pickler& tensor(const std::string& type, const std::string& key, int64_t numel, int64_t offset,
                    const std::vector<int64_t>& size, const std::vector<int64_t>& stride) {
        global("torch._utils", "_rebuild_tensor_v2");
        op('(');
        op('(')
            .str("storage")
            .global("torch", type + "Storage")
            .str(key)
            .str("cpu")
            .integer(numel)
            .op('t')
            .put();
        op('Q');
        integer(offset).int_tuple(size).int_tuple(stride).op(0x89);
        ordered_dict();
        return op('t').put().op('R').put();
    }
    Pickler& stop() { return op('.'); }
};

template <class T>
Bytes raw(const torch::Tensor& t) {
    const auto c = t.contiguous();
    Bytes out(static_cast<size_t>(c.numel()) * sizeof(T));
    std::memcpy(out.data(), c.data_ptr(), out.size());
    return out;
}

inline Bytes archive(const Bytes& pickle, std::vector<ZipEntryIn> storages) {
    std::vector<ZipEntryIn> entries = {{"archive/data.pkl", pickle}};
    for (auto& s : storages) entries.push_back({"archive/data/" + s.name, std::move(s.data)});
    entries.push_back({"archive/version", {'3', '\n'}});
    return make_zip(entries);
}

/// Writes `tensors` (f32, f16 or bf16, any shape) as a torch.save archive of an OrderedDict state_dict.
inline void write_pth(const std::filesystem::path& path,
                      const std::vector<std::pair<std::string, torch::Tensor>>& tensors) {
    Pickler p;
    p.proto().ordered_dict().op('(');
    std::vector<ZipEntryIn> storages;
    for (size_t i = 0; i < tensors.size(); ++i) {
        const torch::Tensor t = tensors[i].second.contiguous().cpu();
        const std::string key = std::to_string(i);
        const auto type = t.scalar_type();
        const std::string storage = type == torch::kFloat32    ? "Float"
                                    : type == torch::kFloat16  ? "Half"
                                    : type == torch::kBFloat16 ? "BFloat16"
                                                               : "";
        if (storage.empty()) throw std::runtime_error("write_pth: f32, f16 or bf16 only");
        std::vector<int64_t> size(t.sizes().begin(), t.sizes().end()),
            stride(t.strides().begin(), t.strides().end());
        p.str(tensors[i].first).tensor(storage, key, t.numel(), 0, size, stride);
        storages.push_back({key, type == torch::kFloat32 ? raw<float>(t) : raw<uint16_t>(t)});
    }
    p.op('u').stop();
    const Bytes zip = archive(p.b, std::move(storages));
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(zip.data()), static_cast<std::streamsize>(zip.size()));
}

}  // namespace fl::test
