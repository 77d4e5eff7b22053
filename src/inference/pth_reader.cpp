#include "inference/pth_reader.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <set>
#include <utility>

#include "inference/pickle_vm.h"
#include "inference/tensor_io.h"

namespace fl::inference {

namespace {

constexpr uint64_t kMaxPickleBytes = uint64_t{256} << 20;
constexpr size_t kMaxDepth = 64;
constexpr size_t kMaxRank = 16;
constexpr size_t kMaxEntries = size_t{1} << 20;  // dict entries visited while flattening (shared subtrees count again)

struct StorageType {
    const char* name;
    DType dtype;
    torch::ScalarType scalar;
};

constexpr StorageType kStorageTypes[] = {
    {"Float", DType::F32, torch::kFloat32}, {"Half", DType::F16, torch::kFloat16},
    {"BFloat16", DType::BF16, torch::kBFloat16}, {"Double", DType::F64, torch::kFloat64},
    {"Long", DType::I64, torch::kInt64},    {"Int", DType::I32, torch::kInt32},
    {"Short", DType::I16, torch::kInt16},   {"Char", DType::I8, torch::kInt8},
    {"Byte", DType::U8, torch::kUInt8},     {"Bool", DType::Bool, torch::kBool},
};

const StorageType* storage_type(const std::string& name) {
    for (const auto& t : kStorageTypes)
        if (name == t.name) return &t;
    return nullptr;
}

torch::ScalarType scalar_of(DType dtype) {
    for (const auto& t : kStorageTypes)
        if (t.dtype == dtype) return t.scalar;
    return torch::kFloat32;
}

using pickle::Kind;
using pickle::Value;

const Value* dict_get(const Value* dict, const char* key) {
    for (const auto& [k, v] : dict->dict)
        if (k->kind == Kind::String && k->s == key) return v;
    return nullptr;
}

/// Collects (name, tensor) pairs from nested dicts, keys joined with '.'.
core::Result<void> flatten(const Value* dict, const std::string& prefix, size_t depth, size_t& visited,
                           std::vector<std::pair<std::string, const Value*>>& out, const std::string& label) {
    if (depth > kMaxDepth)
        return core::fail("corrupt checkpoint: " + label + " nests dicts more than " + std::to_string(kMaxDepth) +
                          " deep");
    for (const auto& [k, v] : dict->dict) {
        // A pickle can share one dict under many keys; without a cap a small file could expand exponentially.
        if (++visited > kMaxEntries)
            return core::fail("corrupt checkpoint: " + label + " expands to more than " +
                              std::to_string(kMaxEntries) + " entries");
        std::string key;
        if (k->kind == Kind::String) key = k->s;
        else if (k->kind == Kind::Int) key = std::to_string(k->i);
        else continue;
        const std::string name = prefix.empty() ? key : prefix + "." + key;
        if (v->kind == Kind::Tensor) out.emplace_back(name, v);
        else if (v->kind == Kind::Dict) FL_TRY(flatten(v, name, depth + 1, visited, out, label));
        // Other values (epoch counters, config strings) are not weights.
    }
    return core::ok();
}

bool mul_ok(int64_t a, int64_t b, int64_t& out) { return !__builtin_mul_overflow(a, b, &out); }
bool add_ok(int64_t a, int64_t b, int64_t& out) { return !__builtin_add_overflow(a, b, &out); }

}  // namespace

core::Result<PthFile> PthFile::open(const std::filesystem::path& path, bool verify_storages) {
    auto zip = ZipReader::open(path);
    if (!zip) return zip.error();
    PthFile f(std::move(*zip));
    FL_TRY(f.load(verify_storages));
    return f;
}

core::Result<PthFile> PthFile::from_memory(const uint8_t* data, size_t size, bool verify_storages) {
    auto zip = ZipReader::from_memory(data, size, "<memory>");
    if (!zip) return zip.error();
    PthFile f(std::move(*zip));
    FL_TRY(f.load(verify_storages));
    return f;
}

core::Result<void> PthFile::load(bool verify_storages) {
    const std::string& label = zip_.label();
    // The pickle sits at "<dir>/data.pkl" (dir is "archive" or the saved file's stem).
    const ZipEntry* pkl = nullptr;
    for (const auto& [name, entry] : zip_.entries()) {
        const auto slash = name.find('/');
        if (slash != std::string::npos && name.compare(slash, std::string::npos, "/data.pkl") == 0) {
            pkl = &entry;
            break;
        }
    }
    if (!pkl)
        return core::fail("not a torch checkpoint: " + label +
                          " is a zip archive without '<dir>/data.pkl' (was it written by torch.save?)");
    if (pkl->size > kMaxPickleBytes)
        return core::fail("unsupported checkpoint: " + label + " has a " + std::to_string(pkl->size >> 20) +
                          " MiB pickle; only state dicts of tensors are read");
    FL_TRY(zip_.verify(*pkl));
    const std::string dir = pkl->name.substr(0, pkl->name.size() - std::strlen("data.pkl"));
    // torch >= 2.1 records the storages' byte order; older archives are little-endian.
    if (const ZipEntry* order = zip_.find(dir + "byteorder")) {
        const std::string text(reinterpret_cast<const char*>(zip_.data(*order)), std::min<uint64_t>(order->size, 16));
        if (text.rfind("little", 0) != 0)
            return core::fail("unsupported checkpoint: " + label + " stores big-endian tensors ('" + text +
                              "'); re-save it on a little-endian machine");
    }
    auto unpickled = pickle::unpickle(zip_.data(*pkl), pkl->size, label);
    if (!unpickled) return unpickled.error();
    const Value* root = (*unpickled)->root;
    if (root->kind != Kind::Dict)
        return core::fail("not a state dict: " + label + " holds a pickled object that is not a dict of tensors");
    for (const char* wrapper : {"state_dict", "model"}) {
        const Value* inner = dict_get(root, wrapper);
        if (inner && inner->kind == Kind::Dict) {
            root = inner;
            break;
        }
    }
    std::vector<std::pair<std::string, const Value*>> named;
    size_t visited = 0;
    FL_TRY(flatten(root, "", 0, visited, named, label));

    std::set<const ZipEntry*> verified;
    for (const auto& [name, t] : named) {
        const std::string where = "corrupt checkpoint: " + label + " tensor '" + name + "' ";
        const Value* st = t->storage;
        const StorageType* type = storage_type(st->s);
        if (!type) return core::fail("unsupported checkpoint: " + label + " tensor '" + name + "' has storage type '" +
                                     st->s + "Storage'");
        const ZipEntry* entry = zip_.find(dir + "data/" + st->key);
        if (!entry) return core::fail(where + "points at storage '" + st->key + "', which is missing from the archive");
        const int64_t es = static_cast<int64_t>(dtype_size(type->dtype));
        int64_t storage_bytes = 0;
        if (!mul_ok(st->numel, es, storage_bytes) || static_cast<uint64_t>(storage_bytes) > entry->size)
            return core::fail(where + "needs " + std::to_string(st->numel) + " elements of storage '" + st->key +
                              "', the archive holds " + std::to_string(entry->size) + " bytes (truncated file?)");
        if (t->size.size() > kMaxRank) return core::fail(where + "has too many dimensions");
        int64_t numel = 1, last = t->offset;
        if (t->offset < 0) return core::fail(where + "has a negative storage offset");
        for (size_t d = 0; d < t->size.size(); ++d) {
            if (t->size[d] < 0 || t->stride[d] < 0) return core::fail(where + "has a negative size or stride");
            int64_t reach = 0;
            if (!mul_ok(numel, t->size[d], numel) || (t->size[d] > 0 && (!mul_ok(t->size[d] - 1, t->stride[d], reach) ||
                                                                          !add_ok(last, reach, last))))
                return core::fail(where + "has a shape that overflows");
        }
        if (numel > 0 && last >= st->numel)
            return core::fail(where + "reaches element " + std::to_string(last) + " of a storage of " +
                              std::to_string(st->numel) + " elements");
        // Views in a state dict never overlap themselves; a broadcast (stride 0) view could ask for terabytes.
        if (numel > st->numel)
            return core::fail(where + "overlaps itself (" + std::to_string(numel) + " elements over a storage of " +
                              std::to_string(st->numel) + ")");
        if (verify_storages && verified.insert(entry).second) FL_TRY(zip_.verify(*entry));
        if (index_.count(name)) return core::fail(where + "appears twice");
        PthTensor pt;
        pt.info.name = name;
        pt.info.dtype = type->dtype;
        pt.info.shape = t->size;
        pt.info.nbytes = static_cast<uint64_t>(numel) * static_cast<uint64_t>(es);
        pt.stride = t->stride;
        pt.storage_offset = t->offset;
        pt.storage = entry;
        index_[name] = tensors_.size();
        tensors_.push_back(std::move(pt));
    }
    for (const auto& t : tensors_) infos_.push_back(t.info);
    return core::ok();
}

const PthTensor* PthFile::find(const std::string& name) const {
    auto it = index_.find(name);
    return it == index_.end() ? nullptr : &tensors_[it->second];
}

core::Result<torch::Tensor> PthFile::read(const std::string& name) const {
    const PthTensor* t = find(name);
    if (!t) return core::fail("tensor '" + name + "' not found in " + label());
    return read(*t);
}

core::Result<torch::Tensor> PthFile::read(const PthTensor& t) const {
    const bool is_bool = t.info.dtype == DType::Bool;
    const auto scalar = is_bool ? torch::kUInt8 : scalar_of(t.info.dtype);
    const int64_t numel = t.info.numel();
    if (numel == 0) return torch::empty(t.info.shape, torch::TensorOptions().dtype(scalar_of(t.info.dtype)));
    // Copy just the span the view touches (bounds were checked at open), then materialise the strides.
    int64_t span = 1;
    for (size_t d = 0; d < t.stride.size(); ++d) span += (t.info.shape[d] - 1) * t.stride[d];
    const size_t es = dtype_size(t.info.dtype);
    torch::Tensor buf = torch::empty({span}, torch::TensorOptions().dtype(scalar));
    std::memcpy(buf.data_ptr(), zip_.data(*t.storage) + static_cast<size_t>(t.storage_offset) * es,
                static_cast<size_t>(span) * es);
    torch::Tensor out = buf.as_strided(t.info.shape, t.stride, 0).contiguous();
    if (is_bool) out = out.ne(0);
    return out;
}

core::Result<bool> is_torch_archive(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return core::fail("cannot open weights file " + path.string() + " (does it exist?)");
    char magic[4] = {};
    in.read(magic, 4);
    return in.gcount() == 4 && magic[0] == 'P' && magic[1] == 'K' && magic[2] == 3 && magic[3] == 4;
}

const std::vector<TensorInfo>& WeightsFile::tensors() const { return st_ ? st_->tensors() : pth_->tensors(); }

const TensorInfo* WeightsFile::find(const std::string& name) const {
    if (st_) return st_->find(name);
    const PthTensor* t = pth_->find(name);
    return t ? &t->info : nullptr;
}

core::Result<torch::Tensor> WeightsFile::read(const std::string& name) const {
    return st_ ? read_tensor(*st_, name) : pth_->read(name);
}

core::Result<torch::Tensor> WeightsFile::read(const TensorInfo& info) const {
    return st_ ? read_tensor(*st_, info) : pth_->read(info.name);
}

const std::map<std::string, std::string>& WeightsFile::metadata() const {
    static const std::map<std::string, std::string> none;
    return st_ ? st_->metadata() : none;
}

core::Result<WeightsFile> open_weights(const std::filesystem::path& path) {
    auto zip = is_torch_archive(path);
    if (!zip) return zip.error();
    WeightsFile w;
    w.label_ = path.string();
    w.path_ = path;
    if (*zip) {
        auto f = PthFile::open(path);
        if (!f) return f.error();
        w.pth_ = std::make_unique<PthFile>(std::move(*f));
    } else {
        auto f = SafeTensorsFile::open(path);
        if (!f) return f.error();
        w.st_ = std::make_unique<SafeTensorsFile>(std::move(*f));
    }
    return w;
}

core::Result<void> load_module(torch::nn::Module& module, const WeightsFile& file, const std::string& prefix,
                               bool strict) {
    if (file.safetensors()) return load_module(module, *file.safetensors(), prefix, strict);
    ModuleFill fill;
    fill.where = file.label();
    fill.find = [&](const std::string& key) { return file.find(key); };
    fill.copy = [&](const std::string& key, const TensorInfo&, torch::Tensor& target) -> core::Result<void> {
        auto value = file.read(key);
        if (!value) return value.error();
        target.copy_(value->to(target.scalar_type()));
        return core::ok();
    };
    for (const auto& t : file.tensors()) fill.keys.push_back(t.name);
    return fill_module(module, fill, prefix, strict);
}

}  // namespace fl::inference
