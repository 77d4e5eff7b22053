#pragma once
/// A restricted pickle machine for torch.save's data.pkl: the protocol 2-5 opcodes torch emits, and GLOBAL
/// only for an allow-list (OrderedDict, tensor rebuilders, typed storages). It never runs code: anything
/// else is an error ("unsafe pickle: refuses global 'os.system'").

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "frameloom/core/result.h"

namespace fl::inference::pickle {

/// What a value is. Containers hold non-owning pointers into the Unpickled arena (cycles are harmless).
enum class Kind { None, Bool, Int, Float, String, Bytes, Tuple, List, Dict, Global, Storage, Tensor };

/// One pickled value.
struct Value {
    Kind kind = Kind::None;
    int64_t i = 0;            ///< Bool / Int
    double f = 0.0;           ///< Float
    std::string s;            ///< String / Bytes; Global: "module.name"; Storage: element type ("Float", "BFloat16")
    std::vector<Value*> items;                    ///< Tuple / List
    std::vector<std::pair<Value*, Value*>> dict;  ///< Dict, in insertion order
    // Storage: s = element type, key = archive key, numel = elements.
    std::string key;
    int64_t numel = 0;
    // Tensor: a strided view of `storage`.
    Value* storage = nullptr;
    int64_t offset = 0;
    std::vector<int64_t> size, stride;
};

/// A parsed pickle: the root value and the arena that owns every value.
struct Unpickled {
    std::vector<std::unique_ptr<Value>> arena;
    Value* root = nullptr;
};

/// Runs the restricted machine over `size` bytes. `label` names the source in errors.
core::Result<std::shared_ptr<Unpickled>> unpickle(const uint8_t* data, size_t size, const std::string& label);

}  // namespace fl::inference::pickle
