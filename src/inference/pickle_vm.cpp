#include "inference/pickle_vm.h"

#include <cstring>
#include <set>
#include <unordered_map>

namespace fl::inference::pickle {

namespace {

constexpr size_t kMaxValues = size_t{1} << 22;
constexpr size_t kMaxMarks = 4096;
constexpr size_t kMaxMemo = size_t{1} << 22;

/// Globals a torch state dict needs; everything else is refused.
const std::set<std::string>& allowed_globals() {
    static const std::set<std::string> allowed = [] {
        std::set<std::string> s = {"collections.OrderedDict", "torch._utils._rebuild_tensor",
                                   "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter",
                                   "torch._utils._rebuild_parameter_with_state"};
        for (const char* t : {"Float", "Half", "BFloat16", "Double", "Long", "Int", "Short", "Char", "Byte", "Bool"})
            s.insert(std::string("torch.") + t + "Storage");
        return s;
    }();
    return allowed;
}

class Machine {
public:
    Machine(const uint8_t* data, size_t size, const std::string& label)
        : p_(data), n_(size), label_(label), out_(std::make_shared<Unpickled>()) {}

    core::Result<std::shared_ptr<Unpickled>> run() {
        while (true) {
            if (pos_ >= n_) return fail("ends without a STOP opcode (truncated file?)");
            op_pos_ = pos_;
            op_ = p_[pos_++];
            if (op_ == '.') {
                if (stack_.size() != 1 || !marks_.empty()) return fail("STOP with a malformed stack");
                out_->root = stack_.back();
                return out_;
            }
            auto step = exec();
            if (!step) return step.error();
        }
    }

private:
    core::Error fail(const std::string& what) const {
        return core::fail("corrupt pickle in " + label_ + ": " + what + " (opcode 0x" + hex(op_) + " at byte " +
                          std::to_string(op_pos_) + "); the file is damaged or not a torch checkpoint");
    }
    static std::string hex(uint8_t v) {
        const char* d = "0123456789abcdef";
        return {d[v >> 4], d[v & 15]};
    }

    core::Result<const uint8_t*> take(uint64_t len) {
        if (len > n_ - pos_) return fail("operand runs past the end of the pickle");
        const uint8_t* at = p_ + pos_;
        pos_ += static_cast<size_t>(len);
        return at;
    }
    core::Result<uint64_t> take_uint(int bytes) {
        auto at = take(static_cast<uint64_t>(bytes));
        if (!at) return at.error();
        uint64_t v = 0;
        for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | (*at)[i];
        return v;
    }
    core::Result<std::string> take_line() {
        const void* nl = std::memchr(p_ + pos_, '\n', n_ - pos_);
        if (!nl) return fail("unterminated text operand");
        const size_t end = static_cast<size_t>(static_cast<const uint8_t*>(nl) - p_);
        std::string s(reinterpret_cast<const char*>(p_ + pos_), end - pos_);
        pos_ = end + 1;
        return s;
    }

    core::Result<Value*> make(Kind kind) {
        if (out_->arena.size() >= kMaxValues) return fail("too many values");
        out_->arena.push_back(std::make_unique<Value>());
        out_->arena.back()->kind = kind;
        return out_->arena.back().get();
    }
    core::Result<void> push(Kind kind, Value** made = nullptr) {
        auto v = make(kind);
        if (!v) return v.error();
        stack_.push_back(*v);
        if (made) *made = *v;
        return core::ok();
    }
    /// Bottom of the current frame: items above the last mark.
    size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
    core::Result<Value*> pop() {
        if (stack_.size() <= floor()) return fail("stack underflow");
        Value* v = stack_.back();
        stack_.pop_back();
        return v;
    }
    core::Result<Value*> top() {
        if (stack_.size() <= floor()) return fail("stack underflow");
        return stack_.back();
    }
    /// Pops everything above the last mark and the mark itself.
    core::Result<std::vector<Value*>> pop_mark() {
        if (marks_.empty()) return fail("no MARK to pop to");
        const size_t m = marks_.back();
        marks_.pop_back();
        std::vector<Value*> items(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
        stack_.resize(m);
        return items;
    }
    core::Result<void> memo_put(uint64_t index) {
        if (stack_.empty()) return fail("memo store with an empty stack");
        if (memo_.size() >= kMaxMemo && !memo_.count(index)) return fail("memo too large");
        memo_[index] = stack_.back();
        return core::ok();
    }
    core::Result<void> memo_get(uint64_t index) {
        auto it = memo_.find(index);
        if (it == memo_.end()) return fail("memo index " + std::to_string(index) + " was never stored");
        stack_.push_back(it->second);
        return core::ok();
    }
    core::Result<void> push_string(Kind kind, uint64_t len) {
        auto at = take(len);
        if (!at) return at.error();
        Value* v = nullptr;
        FL_TRY(push(kind, &v));
        v->s.assign(reinterpret_cast<const char*>(*at), static_cast<size_t>(len));
        return core::ok();
    }
    core::Result<void> push_int(int64_t i) {
        Value* v = nullptr;
        FL_TRY(push(Kind::Int, &v));
        v->i = i;
        return core::ok();
    }
    core::Result<void> push_global(const std::string& module, const std::string& name) {
        const std::string full = module + "." + name;
        if (!allowed_globals().count(full))
            return core::fail("unsafe pickle in " + label_ + ": refuses global '" + full +
                              "' (only tensor data is loaded; the file may be malicious)");
        Value* v = nullptr;
        FL_TRY(push(Kind::Global, &v));
        v->s = full;
        return core::ok();
    }
    core::Result<void> set_items(Value* dict, const std::vector<Value*>& kv) {
        if (dict->kind != Kind::Dict) return fail("SETITEM(S) on a value that is not a dict");
        if (kv.size() % 2) return fail("SETITEMS with an odd number of items");
        for (size_t i = 0; i < kv.size(); i += 2) {
            if (kv[i]->kind == Kind::String) {
                bool replaced = false;
                for (auto& [k, v] : dict->dict)
                    if (k->kind == Kind::String && k->s == kv[i]->s) {
                        v = kv[i + 1];
                        replaced = true;
                        break;
                    }
                if (replaced) continue;
            }
            dict->dict.emplace_back(kv[i], kv[i + 1]);
        }
        return core::ok();
    }
    static bool int_tuple(const Value* v) {
        if (v->kind != Kind::Tuple && v->kind != Kind::List) return false;
        for (const Value* x : v->items)
            if (x->kind != Kind::Int) return false;
        return true;
    }

    core::Result<void> persistent_load() {
        auto pid = pop();
        if (!pid) return pid.error();
        const Value* t = *pid;
        if (t->kind != Kind::Tuple || t->items.size() != 5 || t->items[0]->kind != Kind::String ||
            t->items[0]->s != "storage" || t->items[1]->kind != Kind::Global || t->items[2]->kind != Kind::String ||
            t->items[4]->kind != Kind::Int || t->items[4]->i < 0)
            return fail("persistent id is not ('storage', type, key, location, numel)");
        const std::string& cls = t->items[1]->s;  // "torch.BFloat16Storage"
        if (cls.rfind("torch.", 0) != 0 || cls.size() < 6 + 7 + 1 || cls.compare(cls.size() - 7, 7, "Storage") != 0)
            return fail("persistent id names '" + cls + "', not a storage type");
        Value* v = nullptr;
        FL_TRY(push(Kind::Storage, &v));
        v->s = cls.substr(6, cls.size() - 6 - 7);
        v->key = t->items[2]->s;
        v->numel = t->items[4]->i;
        return core::ok();
    }

    core::Result<void> reduce() {
        auto args = pop();
        if (!args) return args.error();
        auto fn = pop();
        if (!fn) return fn.error();
        if ((*fn)->kind != Kind::Global) return fail("REDUCE on a value that is not a callable");
        if ((*args)->kind != Kind::Tuple) return fail("REDUCE arguments are not a tuple");
        const std::string& name = (*fn)->s;
        const auto& a = (*args)->items;
        if (name == "collections.OrderedDict") {
            if (!a.empty()) return fail("OrderedDict built from arguments is not supported");
            return push(Kind::Dict);
        }
        if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor") {
            if (a.size() < 4 || a[0]->kind != Kind::Storage || a[1]->kind != Kind::Int || !int_tuple(a[2]) ||
                !int_tuple(a[3]) || a[2]->items.size() != a[3]->items.size())
                return fail("malformed tensor record (expected storage, offset, size, stride)");
            Value* v = nullptr;
            FL_TRY(push(Kind::Tensor, &v));
            v->storage = a[0];
            v->offset = a[1]->i;
            for (const Value* x : a[2]->items) v->size.push_back(x->i);
            for (const Value* x : a[3]->items) v->stride.push_back(x->i);
            return core::ok();
        }
        if (name == "torch._utils._rebuild_parameter" || name == "torch._utils._rebuild_parameter_with_state") {
            if (a.empty() || a[0]->kind != Kind::Tensor) return fail("malformed parameter record");
            stack_.push_back(a[0]);
            return core::ok();
        }
        return fail("'" + name + "' cannot be called");
    }

    core::Result<void> exec() {
        switch (op_) {
            case 0x80: {  // PROTO
                auto v = take_uint(1);
                if (!v) return v.error();
                if (*v < 2 || *v > 5) return fail("unsupported pickle protocol " + std::to_string(*v));
                return core::ok();
            }
            case 0x95: {  // FRAME: a hint only
                auto v = take_uint(8);
                if (!v) return v.error();
                return core::ok();
            }
            case 'N': return push(Kind::None);
            case 0x88:
            case 0x89: {
                Value* v = nullptr;
                FL_TRY(push(Kind::Bool, &v));
                v->i = op_ == 0x88;
                return core::ok();
            }
            case 'J': {
                auto v = take_uint(4);
                if (!v) return v.error();
                return push_int(static_cast<int32_t>(static_cast<uint32_t>(*v)));
            }
            case 'K': {
                auto v = take_uint(1);
                if (!v) return v.error();
                return push_int(static_cast<int64_t>(*v));
            }
            case 'M': {
                auto v = take_uint(2);
                if (!v) return v.error();
                return push_int(static_cast<int64_t>(*v));
            }
            case 0x8a: {  // LONG1: n-byte little-endian two's complement
                auto n = take_uint(1);
                if (!n) return n.error();
                if (*n > 8) return fail("integer wider than 64 bits");
                if (*n == 0) return push_int(0);
                auto v = take_uint(static_cast<int>(*n));
                if (!v) return v.error();
                uint64_t u = *v;
                if (*n < 8 && (u >> (8 * *n - 1)) & 1) u |= ~uint64_t{0} << (8 * *n);
                return push_int(static_cast<int64_t>(u));
            }
            case 'G': {  // BINFLOAT: big-endian double
                auto at = take(8);
                if (!at) return at.error();
                uint64_t u = 0;
                for (int i = 0; i < 8; ++i) u = (u << 8) | (*at)[i];
                Value* v = nullptr;
                FL_TRY(push(Kind::Float, &v));
                std::memcpy(&v->f, &u, sizeof u);
                return core::ok();
            }
            case 'X':
            case 'B':
            case 'T': {  // BINUNICODE, BINBYTES, BINSTRING: 4-byte length
                auto len = take_uint(4);
                if (!len) return len.error();
                return push_string(op_ == 'B' ? Kind::Bytes : Kind::String, *len);
            }
            case 0x8c:
            case 'C':
            case 'U': {  // SHORT_BINUNICODE, SHORT_BINBYTES, SHORT_BINSTRING: 1-byte length
                auto len = take_uint(1);
                if (!len) return len.error();
                return push_string(op_ == 'C' ? Kind::Bytes : Kind::String, *len);
            }
            case 0x8d:
            case 0x8e: {  // BINUNICODE8, BINBYTES8
                auto len = take_uint(8);
                if (!len) return len.error();
                return push_string(op_ == 0x8e ? Kind::Bytes : Kind::String, *len);
            }
            case '}': return push(Kind::Dict);
            case ']': return push(Kind::List);
            case ')': return push(Kind::Tuple);
            case '(':
                if (marks_.size() >= kMaxMarks) return fail("MARKs nested too deeply");
                marks_.push_back(stack_.size());
                return core::ok();
            case 't':
            case 'l':
            case 'd': {  // TUPLE, LIST, DICT from the items above the mark
                auto items = pop_mark();
                if (!items) return items.error();
                Value* v = nullptr;
                FL_TRY(push(op_ == 't' ? Kind::Tuple : op_ == 'l' ? Kind::List : Kind::Dict, &v));
                if (op_ == 'd') return set_items(v, *items);
                v->items = std::move(*items);
                return core::ok();
            }
            case 0x85:
            case 0x86:
            case 0x87: {  // TUPLE1..3
                const size_t k = static_cast<size_t>(op_ - 0x84);
                if (stack_.size() < floor() + k) return fail("stack underflow");
                std::vector<Value*> items(stack_.end() - static_cast<std::ptrdiff_t>(k), stack_.end());
                stack_.resize(stack_.size() - k);
                Value* v = nullptr;
                FL_TRY(push(Kind::Tuple, &v));
                v->items = std::move(items);
                return core::ok();
            }
            case 's': {
                auto value = pop();
                if (!value) return value.error();
                auto key = pop();
                if (!key) return key.error();
                auto dict = top();
                if (!dict) return dict.error();
                return set_items(*dict, {*key, *value});
            }
            case 'u': {
                auto items = pop_mark();
                if (!items) return items.error();
                auto dict = top();
                if (!dict) return dict.error();
                return set_items(*dict, *items);
            }
            case 'a': {
                auto value = pop();
                if (!value) return value.error();
                auto list = top();
                if (!list) return list.error();
                if ((*list)->kind != Kind::List) return fail("APPEND to a value that is not a list");
                (*list)->items.push_back(*value);
                return core::ok();
            }
            case 'e': {
                auto items = pop_mark();
                if (!items) return items.error();
                auto list = top();
                if (!list) return list.error();
                if ((*list)->kind != Kind::List) return fail("APPENDS to a value that is not a list");
                (*list)->items.insert((*list)->items.end(), items->begin(), items->end());
                return core::ok();
            }
            case 'q': {
                auto i = take_uint(1);
                if (!i) return i.error();
                return memo_put(*i);
            }
            case 'r': {
                auto i = take_uint(4);
                if (!i) return i.error();
                return memo_put(*i);
            }
            case 0x94: return memo_put(memo_.size());  // MEMOIZE
            case 'h': {
                auto i = take_uint(1);
                if (!i) return i.error();
                return memo_get(*i);
            }
            case 'j': {
                auto i = take_uint(4);
                if (!i) return i.error();
                return memo_get(*i);
            }
            case 'c': {  // GLOBAL "module\nname\n"
                auto module = take_line();
                if (!module) return module.error();
                auto name = take_line();
                if (!name) return name.error();
                return push_global(*module, *name);
            }
            case 0x93: {  // STACK_GLOBAL
                auto name = pop();
                if (!name) return name.error();
                auto module = pop();
                if (!module) return module.error();
                if ((*name)->kind != Kind::String || (*module)->kind != Kind::String)
                    return fail("STACK_GLOBAL operands are not strings");
                return push_global((*module)->s, (*name)->s);
            }
            case 'R': return reduce();
            case 'b': {  // BUILD: state for an OrderedDict (_metadata) or a tensor is dropped
                auto state = pop();
                if (!state) return state.error();
                auto obj = top();
                if (!obj) return obj.error();
                if ((*obj)->kind != Kind::Dict && (*obj)->kind != Kind::Tensor)
                    return fail("BUILD on a value that is not a dict or tensor");
                return core::ok();
            }
            case 'Q': return persistent_load();
            case '0': {
                auto v = pop();
                if (!v) return v.error();
                return core::ok();
            }
            case '1': {
                auto v = pop_mark();
                if (!v) return v.error();
                return core::ok();
            }
            case '2': {
                auto v = top();
                if (!v) return v.error();
                stack_.push_back(*v);
                return core::ok();
            }
            default: return fail("unsupported opcode");
        }
    }

    const uint8_t* p_;
    size_t n_;
    size_t pos_ = 0;
    size_t op_pos_ = 0;
    uint8_t op_ = 0;
    const std::string& label_;
    std::shared_ptr<Unpickled> out_;
    std::vector<Value*> stack_;
    std::vector<size_t> marks_;
    std::unordered_map<uint64_t, Value*> memo_;
};

}  // namespace

core::Result<std::shared_ptr<Unpickled>> unpickle(const uint8_t* data, size_t size, const std::string& label) {
    Machine m(data, size, label);
    return m.run();
}

}  // namespace fl::inference::pickle
