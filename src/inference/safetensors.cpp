#include "frameloom/inference/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <utility>

#include "frameloom/core/atomic_file.h"

namespace fl::inference {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

/// A header larger than this is not a real safetensors header (the biggest real ones are a few MB).
constexpr uint64_t kMaxHeaderBytes = 100ull * 1000 * 1000;
/// JSON nesting deeper than this cannot be a safetensors header; refuse it before parsing.
constexpr int kMaxJsonDepth = 64;

struct DTypeName {
    DType dtype;
    const char* name;
    size_t size;
};

constexpr DTypeName kDTypes[] = {
    {DType::F32, "F32", 4},          {DType::F16, "F16", 2},         {DType::BF16, "BF16", 2},
    {DType::F64, "F64", 8},          {DType::I64, "I64", 8},         {DType::I32, "I32", 4},
    {DType::I16, "I16", 2},          {DType::I8, "I8", 1},           {DType::U8, "U8", 1},
    {DType::Bool, "BOOL", 1},        {DType::F8_E4M3, "F8_E4M3", 1}, {DType::F8_E5M2, "F8_E5M2", 1},
};

std::optional<DType> parse_dtype(const std::string& s) {
    for (const auto& d : kDTypes)
        if (s == d.name) return d.dtype;
    return std::nullopt;
}

/// "12.4 MB", "512 bytes": sizes as a person reads them.
std::string human_size(uint64_t bytes) {
    char buf[64];
    if (bytes < 1000) {
        std::snprintf(buf, sizeof buf, "%llu bytes", static_cast<unsigned long long>(bytes));
    } else if (bytes < 1000ull * 1000) {
        std::snprintf(buf, sizeof buf, "%.1f kB", static_cast<double>(bytes) / 1e3);
    } else if (bytes < 1000ull * 1000 * 1000) {
        std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(bytes) / 1e6);
    } else {
        std::snprintf(buf, sizeof buf, "%.2f GB", static_cast<double>(bytes) / 1e9);
    }
    return buf;
}

/// Deepest bracket nesting of a JSON text (strings skipped), stopping early past `limit`.
int json_depth(const char* p, size_t n, int limit) {
    int depth = 0, deepest = 0;
    bool in_string = false;
    for (size_t i = 0; i < n; ++i) {
        const char c = p[i];
        if (in_string) {
            if (c == '\\') ++i;
            else if (c == '"') in_string = false;
            continue;
        }
        if (c == '"') in_string = true;
        else if (c == '{' || c == '[') {
            deepest = std::max(deepest, ++depth);
            if (deepest > limit) return deepest;
        } else if (c == '}' || c == ']') {
            --depth;
        }
    }
    return deepest;
}

/// Mapped bytes of a file, unmapped on destruction unless released.
struct Mapping {
    const uint8_t* ptr = nullptr;
    size_t size = 0;
    Mapping() = default;
    Mapping(const Mapping&) = delete;
    Mapping& operator=(const Mapping&) = delete;
    ~Mapping() {
        if (ptr) ::munmap(const_cast<uint8_t*>(ptr), size);
    }
    std::pair<const uint8_t*, size_t> release() {
        auto out = std::make_pair(ptr, size);
        ptr = nullptr;
        size = 0;
        return out;
    }
};

}  // namespace

const char* to_string(DType dtype) {
    for (const auto& d : kDTypes)
        if (d.dtype == dtype) return d.name;
    return "?";
}

size_t dtype_size(DType dtype) {
    for (const auto& d : kDTypes)
        if (d.dtype == dtype) return d.size;
    return 0;
}

int64_t TensorInfo::numel() const {
    int64_t n = 1;
    for (const int64_t d : shape) n *= d;
    return n;
}

SafeTensorsFile::SafeTensorsFile(SafeTensorsFile&& o) noexcept
    : path_(std::move(o.path_)),
      tensors_(std::move(o.tensors_)),
      index_(std::move(o.index_)),
      metadata_(std::move(o.metadata_)),
      map_(std::exchange(o.map_, nullptr)),
      map_size_(std::exchange(o.map_size_, 0)),
      data_start_(o.data_start_) {}

SafeTensorsFile& SafeTensorsFile::operator=(SafeTensorsFile&& o) noexcept {
    if (this != &o) {
        if (map_) ::munmap(const_cast<uint8_t*>(map_), map_size_);
        path_ = std::move(o.path_);
        tensors_ = std::move(o.tensors_);
        index_ = std::move(o.index_);
        metadata_ = std::move(o.metadata_);
        map_ = std::exchange(o.map_, nullptr);
        map_size_ = std::exchange(o.map_size_, 0);
        data_start_ = o.data_start_;
    }
    return *this;
}

SafeTensorsFile::~SafeTensorsFile() {
    if (map_) ::munmap(const_cast<uint8_t*>(map_), map_size_);
}

const TensorInfo* SafeTensorsFile::find(const std::string& name) const {
    const auto it = index_.find(name);
    return it == index_.end() ? nullptr : &tensors_[it->second];
}

const uint8_t* SafeTensorsFile::data(const TensorInfo& info) const { return map_ + data_start_ + info.offset; }

core::Result<SafeTensorsFile> SafeTensorsFile::open(const fs::path& path) {
    const std::string where = path.string();
    const std::string corrupt = "model file corrupt: " + where;
    const std::string redownload = " (re-download it)";

    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return core::fail("model file missing: " + where + " (check the path or download it)");
        return core::fail("cannot read model file " + where + ": " + std::strerror(errno));
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return core::fail("cannot read model file " + where + ": not a regular file");
    }
    const auto file_size = static_cast<uint64_t>(st.st_size);
    if (file_size < 8) {
        ::close(fd);
        return core::fail("model file truncated: " + where + " holds only " + human_size(file_size) +
                          ", too short to be a safetensors file" + redownload);
    }
    Mapping map;
    void* p = ::mmap(nullptr, file_size, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (p == MAP_FAILED) return core::fail("cannot map model file " + where + ": " + std::strerror(errno));
    map.ptr = static_cast<const uint8_t*>(p);
    map.size = file_size;

    uint64_t header_len = 0;
    for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | map.ptr[i];
    if (header_len > kMaxHeaderBytes)
        return core::fail(corrupt + " claims a " + human_size(header_len) +
                          " header, which no safetensors file has (not a safetensors file, or damaged;" +
                          " re-download it)");
    if (header_len > file_size - 8)
        return core::fail("model file truncated: " + where + " header says " + human_size(header_len) +
                          " of header, file holds " + human_size(file_size - 8) + " after the length" + redownload);
    const char* header = reinterpret_cast<const char*>(map.ptr + 8);
    if (json_depth(header, header_len, kMaxJsonDepth) > kMaxJsonDepth)
        return core::fail(corrupt + " has a header nested too deeply to be a safetensors header" + redownload);
    json h = json::parse(header, header + header_len, nullptr, /*allow_exceptions=*/false);
    if (h.is_discarded()) return core::fail(corrupt + " has a header that is not valid JSON" + redownload);
    if (!h.is_object()) return core::fail(corrupt + " has a header that is not a JSON object" + redownload);

    const uint64_t data_start = 8 + header_len;
    const uint64_t data_size = file_size - data_start;

    SafeTensorsFile out;
    out.path_ = path;
    out.data_start_ = static_cast<size_t>(data_start);
    uint64_t data_end = 0;  // largest end offset any tensor claims
    for (const auto& [name, entry] : h.items()) {
        const std::string what = corrupt + ": entry '" + name + "'";
        if (name == "__metadata__") {
            if (!entry.is_object()) return core::fail(corrupt + ": __metadata__ is not an object" + redownload);
            for (const auto& [k, v] : entry.items()) {
                if (!v.is_string())
                    return core::fail(corrupt + ": __metadata__ value '" + k + "' is not a string" + redownload);
                out.metadata_[k] = v.get<std::string>();
            }
            continue;
        }
        if (!entry.is_object()) return core::fail(what + " is not an object" + redownload);
        const auto dt = entry.find("dtype");
        const auto sh = entry.find("shape");
        const auto off = entry.find("data_offsets");
        if (dt == entry.end() || !dt->is_string()) return core::fail(what + " has no dtype" + redownload);
        if (sh == entry.end() || !sh->is_array()) return core::fail(what + " has no shape" + redownload);
        if (off == entry.end() || !off->is_array() || off->size() != 2)
            return core::fail(what + " has no data_offsets [begin, end]" + redownload);

        TensorInfo info;
        info.name = name;
        const auto dtype = parse_dtype(dt->get<std::string>());
        if (!dtype)
            return core::fail("unsupported tensor type '" + dt->get<std::string>() + "' for '" + name + "' in " +
                              where + " (convert the file to F32, F16 or BF16)");
        info.dtype = *dtype;
        uint64_t numel = 1;
        bool overflow = false;
        for (const auto& d : *sh) {
            if (!d.is_number_unsigned()) return core::fail(what + " has a shape that is not whole numbers" + redownload);
            const uint64_t v = d.get<uint64_t>();
            if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) overflow = true;
            if (__builtin_mul_overflow(numel, v, &numel)) overflow = true;
            info.shape.push_back(static_cast<int64_t>(std::min<uint64_t>(v, std::numeric_limits<int64_t>::max())));
        }
        uint64_t nbytes = 0;
        if (overflow || numel > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
            __builtin_mul_overflow(numel, dtype_size(info.dtype), &nbytes))
            return core::fail(what + " has a shape too large to exist" + redownload);
        const auto& b = (*off)[0];
        const auto& e = (*off)[1];
        if (!b.is_number_unsigned() || !e.is_number_unsigned())
            return core::fail(what + " has data_offsets that are not non-negative whole numbers" + redownload);
        const uint64_t begin = b.get<uint64_t>(), end = e.get<uint64_t>();
        if (end < begin) return core::fail(what + " ends before it begins" + redownload);
        if (end - begin != nbytes)
            return core::fail(what + " is " + std::string(to_string(info.dtype)) + " with " + std::to_string(numel) +
                              " elements (" + std::to_string(nbytes) + " bytes) but spans " +
                              std::to_string(end - begin) + " bytes" + redownload);
        data_end = std::max(data_end, end);
        info.offset = begin;
        info.nbytes = nbytes;
        out.tensors_.push_back(std::move(info));
    }
    if (data_end > data_size)
        return core::fail("model file truncated: " + where + " header says " + human_size(data_end) +
                          " of tensor data, file holds " + human_size(data_size) + redownload);

    // No two tensors may share bytes (empty tensors occupy none).
    std::vector<const TensorInfo*> by_offset;
    for (const auto& t : out.tensors_)
        if (t.nbytes > 0) by_offset.push_back(&t);
    std::sort(by_offset.begin(), by_offset.end(),
              [](const TensorInfo* a, const TensorInfo* b) { return a->offset < b->offset; });
    for (size_t i = 1; i < by_offset.size(); ++i) {
        const TensorInfo& prev = *by_offset[i - 1];
        if (by_offset[i]->offset < prev.offset + prev.nbytes)
            return core::fail(corrupt + ": tensors '" + prev.name + "' and '" + by_offset[i]->name +
                              "' overlap" + redownload);
    }
    for (size_t i = 0; i < out.tensors_.size(); ++i) out.index_[out.tensors_[i].name] = i;
    std::tie(out.map_, out.map_size_) = map.release();
    return out;
}

core::Result<void> write_safetensors(const fs::path& path, const std::vector<TensorBlob>& tensors,
                                     const std::map<std::string, std::string>& metadata) {
    std::vector<const TensorBlob*> sorted;
    for (const auto& t : tensors) sorted.push_back(&t);
    std::sort(sorted.begin(), sorted.end(), [](const TensorBlob* a, const TensorBlob* b) { return a->name < b->name; });

    json header = json::object();
    if (!metadata.empty()) {
        json meta = json::object();
        for (const auto& [k, v] : metadata) meta[k] = v;
        header["__metadata__"] = std::move(meta);
    }
    uint64_t offset = 0;
    for (size_t i = 0; i < sorted.size(); ++i) {
        const TensorBlob& t = *sorted[i];
        if (t.name.empty() || t.name == "__metadata__")
            return core::fail("cannot write " + path.string() + ": invalid tensor name '" + t.name + "'");
        if (i > 0 && sorted[i - 1]->name == t.name)
            return core::fail("cannot write " + path.string() + ": tensor '" + t.name + "' appears twice");
        uint64_t numel = 1;
        json shape = json::array();
        for (const int64_t d : t.shape) {
            if (d < 0) return core::fail("cannot write " + path.string() + ": tensor '" + t.name + "' has a negative dimension");
            numel *= static_cast<uint64_t>(d);
            shape.push_back(d);
        }
        if (numel * dtype_size(t.dtype) != t.bytes.size())
            return core::fail("cannot write " + path.string() + ": tensor '" + t.name + "' holds " +
                              std::to_string(t.bytes.size()) + " bytes, its shape and dtype need " +
                              std::to_string(numel * dtype_size(t.dtype)));
        header[t.name] = {{"dtype", to_string(t.dtype)}, {"shape", std::move(shape)},
                          {"data_offsets", {offset, offset + t.bytes.size()}}};
        offset += t.bytes.size();
    }
    std::string text = header.dump();
    // Pad with spaces so the data section starts 8-byte aligned (valid JSON; readers skip whitespace).
    while ((8 + text.size()) % 8 != 0) text.push_back(' ');

    std::string bytes;
    bytes.reserve(8 + text.size() + offset);
    const uint64_t n = text.size();
    for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
    bytes += text;
    for (const TensorBlob* t : sorted) bytes.append(reinterpret_cast<const char*>(t->bytes.data()), t->bytes.size());
    return core::write_file_atomically(path, bytes);
}

}  // namespace fl::inference
