#include "inference/tokenizer.h"

#include <dlfcn.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <unordered_map>
#include <vector>

#include "frameloom/core/atomic_file.h"
#include "inference/sentencepiece_shim/sentencepiece_shim.h"

namespace fl::inference {
namespace fs = std::filesystem;

namespace {

void append_utf8(std::string& out, uint32_t cp) {
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;  // as Python's html.unescape
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

int hex_digit(char ch) {
    return std::isdigit(static_cast<unsigned char>(ch)) ? ch - '0' : std::tolower(static_cast<unsigned char>(ch)) - 'a' + 10;
}

/// One pass of HTML unescaping: the named entities prompts actually carry, and numeric ones.
std::string html_unescape(const std::string& s) {
    static const std::pair<const char*, const char*> named[] = {
        {"amp;", "&"}, {"lt;", "<"}, {"gt;", ">"}, {"quot;", "\""}, {"apos;", "'"}, {"nbsp;", "\xC2\xA0"},
    };
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '&') {
            out.push_back(s[i]);
            continue;
        }
        bool done = false;
        if (i + 1 < s.size() && s[i + 1] == '#') {
            size_t j = i + 2;
            const bool hex = j < s.size() && (s[j] == 'x' || s[j] == 'X');
            if (hex) ++j;
            const size_t digits_start = j;
            uint64_t cp = 0;
            while (j < s.size() && (hex ? std::isxdigit(static_cast<unsigned char>(s[j])) : std::isdigit(static_cast<unsigned char>(s[j])))) {
                if (cp <= 0x10FFFF) cp = cp * (hex ? 16 : 10) + static_cast<uint64_t>(hex_digit(s[j]));
                ++j;
            }
            if (j > digits_start) {
                append_utf8(out, static_cast<uint32_t>(std::min<uint64_t>(cp, 0x110000)));
                if (j < s.size() && s[j] == ';') ++j;
                i = j - 1;
                done = true;
            }
        } else {
            for (const auto& [name, text] : named) {
                if (s.compare(i + 1, std::char_traits<char>::length(name), name) == 0) {
                    out += text;
                    i += std::char_traits<char>::length(name);
                    done = true;
                    break;
                }
            }
        }
        if (!done) out.push_back('&');
    }
    return out;
}

/// Byte length of the whitespace character at s[i] (ASCII and the common Unicode spaces), 0 if none.
size_t space_at(const std::string& s, size_t i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F)) return 1;
    auto byte = [&](size_t k) { return k < s.size() ? static_cast<unsigned char>(s[k]) : 0; };
    if (c == 0xC2 && (byte(i + 1) == 0x85 || byte(i + 1) == 0xA0)) return 2;                 // NEL, NBSP
    if (c == 0xE1 && byte(i + 1) == 0x9A && byte(i + 2) == 0x80) return 3;                   // U+1680
    if (c == 0xE2 && byte(i + 1) == 0x80) {
        const auto d = byte(i + 2);
        if ((d >= 0x80 && d <= 0x8A) || d == 0xA8 || d == 0xA9 || d == 0xAF) return 3;       // U+2000..200A, 2028, 2029, 202F
    }
    if (c == 0xE2 && byte(i + 1) == 0x81 && byte(i + 2) == 0x9F) return 3;                   // U+205F
    if (c == 0xE3 && byte(i + 1) == 0x80 && byte(i + 2) == 0x80) return 3;                   // U+3000
    return 0;
}

void append_to(void* ctx, const char* data, size_t len) { static_cast<std::string*>(ctx)->append(data, len); }

/// The sentencepiece plug-in's entry points. Debian's libsentencepiece exports a bundled protobuf-lite that
/// clashes with LibTorch's libprotobuf, so it is never linked into our binaries; the plug-in is opened
/// RTLD_LOCAL | RTLD_DEEPBIND so that it binds to its own copy. Loaded once per process: a dlopen'd library
/// is process state whatever we do, and it is immutable once loaded.
struct SentencePieceApi {
    fl_spm_load_fn load = nullptr;
    fl_spm_free_fn free = nullptr;
    fl_spm_piece_size_fn piece_size = nullptr;
    fl_spm_encode_fn encode = nullptr;
    fl_spm_train_fn train = nullptr;
    std::string error;  ///< why the plug-in could not be opened ("" when it was)
};

/// Candidate places of the plug-in: beside the executable's lib/ folder, beside the executable, the build tree.
std::vector<fs::path> plugin_candidates() {
    std::vector<fs::path> out;
    if (const char* env = std::getenv("FRAMELOOM_SENTENCEPIECE_PLUGIN"); env && *env) out.emplace_back(env);
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec && !exe.empty()) {
        out.push_back(exe.parent_path() / ".." / "lib" / FL_SPM_PLUGIN_NAME);
        out.push_back(exe.parent_path() / ".." / "lib" / "frameloom" / FL_SPM_PLUGIN_NAME);
        out.push_back(exe.parent_path() / FL_SPM_PLUGIN_NAME);
    }
    out.emplace_back(FL_SPM_PLUGIN_PATH);
    return out;
}

const SentencePieceApi& sentencepiece_api() {
    static const SentencePieceApi api = [] {
        SentencePieceApi a;
        void* lib = nullptr;
        std::string tried;
        for (const auto& path : plugin_candidates()) {
            std::error_code ec;
            if (!fs::is_regular_file(path, ec)) continue;
            lib = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
            if (lib) break;
            if (const char* e = ::dlerror()) tried = e;
        }
        if (!lib) {
            a.error = std::string("tokenizer support library ") + FL_SPM_PLUGIN_NAME + " not found or not loadable" +
                      (tried.empty() ? "" : " (" + tried + ")") + ": reinstall frameloom";
            return a;
        }
        // Never dlclose'd: the handles below live as long as the process.
        a.load = reinterpret_cast<fl_spm_load_fn>(::dlsym(lib, "fl_spm_load"));
        a.free = reinterpret_cast<fl_spm_free_fn>(::dlsym(lib, "fl_spm_free"));
        a.piece_size = reinterpret_cast<fl_spm_piece_size_fn>(::dlsym(lib, "fl_spm_piece_size"));
        a.encode = reinterpret_cast<fl_spm_encode_fn>(::dlsym(lib, "fl_spm_encode"));
        a.train = reinterpret_cast<fl_spm_train_fn>(::dlsym(lib, "fl_spm_train"));
        if (!a.load || !a.free || !a.piece_size || !a.encode || !a.train)
            a.error = std::string("tokenizer support library ") + FL_SPM_PLUGIN_NAME + " is from another version: reinstall frameloom";
        return a;
    }();
    return api;
}

}  // namespace

/// A model handle inside the plug-in, freed through it.
struct Tokenizer::Model {
    const SentencePieceApi* api = nullptr;
    void* handle = nullptr;
    Model() = default;
    Model(const Model&) = delete;
    Model& operator=(const Model&) = delete;
    ~Model() {
        if (handle) api->free(handle);
    }
};

Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

core::Result<Tokenizer> Tokenizer::load(const fs::path& path) {
    std::error_code ec;
    // A checkpoint's tokenizer folder (e.g. google/umt5-xxl/) holds the model as spiece.model.
    const fs::path model_path = fs::is_directory(path, ec) ? path / "spiece.model" : path;
    if (!fs::is_regular_file(model_path, ec))
        return core::fail("tokenizer file missing or corrupt: " + model_path.string() + " (re-download the model)");
    const SentencePieceApi& api = sentencepiece_api();
    if (!api.error.empty()) return core::fail(api.error);
    std::string why;
    void* handle = api.load(model_path.c_str(), append_to, &why);
    if (!handle)
        return core::fail("tokenizer file missing or corrupt: " + model_path.string() + " (" + why +
                          "; re-download the model)");
    Tokenizer t;
    t.model_ = std::make_unique<Model>();
    t.model_->api = &api;
    t.model_->handle = handle;
    return t;
}

namespace {

/// The code point of the UTF-8 sequence at s[i] and its length; an invalid byte is itself (length 1, -1).
std::pair<int64_t, size_t> utf8_at(const std::string& s, size_t i) {
    const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = b(i);
    const size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return {-1, 1};
    int64_t cp = n == 1 ? c : c & (0x7F >> n);
    for (size_t k = 1; k < n; ++k) {
        if ((b(i + k) & 0xC0) != 0x80) return {-1, 1};
        cp = (cp << 6) | (b(i + k) & 0x3F);
    }
    return {cp, n};
}

/// The parts of ftfy.fix_text (the reference's first cleaning step) that change real prompts once
/// SentencePiece's own NFKC normalisation has run: HTML entities when the text holds no '<' (ftfy's
/// "auto": it might be HTML), curly quotes made straight, and invisible control characters removed. Mojibake
/// repair (text decoded with the wrong code page) is not reproduced.
std::string ftfy_subset(const std::string& text) {
    const std::string s = text.find('<') == std::string::npos ? html_unescape(text) : text;
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
        const auto [cp, n] = utf8_at(s, i);
        const bool control = (cp >= 0x00 && cp <= 0x08) || cp == 0x0B || (cp >= 0x0E && cp <= 0x1F) ||
                             cp == 0x7F || (cp >= 0x206A && cp <= 0x206F) || cp == 0xFEFF ||
                             (cp >= 0xFFF9 && cp <= 0xFFFC);
        if (cp == 0x02BC || (cp >= 0x2018 && cp <= 0x201B))
            out.push_back('\'');
        else if (cp >= 0x201C && cp <= 0x201F)
            out.push_back('"');
        else if (!control)
            out.append(s, i, n);
        i += n;
    }
    return out;
}

}  // namespace

std::string Tokenizer::clean(const std::string& text) {
    const std::string unescaped = html_unescape(html_unescape(ftfy_subset(text)));
    // Collapse every whitespace run to one space, dropping runs at either end (strip).
    std::string out;
    out.reserve(unescaped.size());
    bool pending_space = false;
    for (size_t i = 0; i < unescaped.size();) {
        if (const size_t n = space_at(unescaped, i)) {
            pending_space = !out.empty();
            i += n;
            continue;
        }
        if (pending_space) out.push_back(' ');
        pending_space = false;
        out.push_back(unescaped[i++]);
    }
    return out;
}

Tokens Tokenizer::encode(const std::string& text, int64_t max_length) const {
    max_length = std::max<int64_t>(max_length, 1);
    const std::string cleaned = clean(text);
    // Ask for what fits; the plug-in reports the full count, and only max_length-1 are kept anyway.
    std::vector<int> pieces(static_cast<size_t>(max_length));
    const size_t total = model_->api->encode(model_->handle, cleaned.data(), cleaned.size(), pieces.data(), pieces.size());
    pieces.resize(std::min(total, pieces.size()));
    Tokens out;
    const auto keep = std::min<int64_t>(static_cast<int64_t>(pieces.size()), max_length - 1);
    out.ids.assign(pieces.begin(), pieces.begin() + keep);
    out.ids.push_back(1);  // EOS
    out.length = static_cast<int64_t>(out.ids.size());
    out.ids.resize(static_cast<size_t>(max_length), 0);  // pad
    return out;
}

int64_t Tokenizer::vocab_size() const { return model_->api->piece_size(model_->handle); }

core::Result<void> Tokenizer::train(const std::vector<std::string>& sentences, int vocab_size,
                                    const fs::path& model_path) {
    return train(sentences, vocab_size, model_path, "unigram");
}

core::Result<void> Tokenizer::train(const std::vector<std::string>& sentences, int vocab_size,
                                    const fs::path& model_path, const std::string& model_type) {
    if (model_type != "unigram" && model_type != "bpe")
        return core::fail("unknown tokenizer model type '" + model_type + "': use unigram or bpe");
    if (sentences.empty()) return core::fail("cannot train a tokenizer on no sentences");
    const std::unordered_map<std::string, std::string> args = {
        {"model_type", model_type},
        {"vocab_size", std::to_string(vocab_size)},
        {"pad_id", "0"},
        {"eos_id", "1"},
        {"unk_id", "2"},
        {"bos_id", "-1"},
        {"character_coverage", "1.0"},
        {"hard_vocab_limit", "false"},
        {"num_threads", "1"},
        {"minloglevel", "2"},
    };
    const SentencePieceApi& api = sentencepiece_api();
    if (!api.error.empty()) return core::fail(api.error);
    std::vector<const char*> keys, values, texts;
    std::vector<size_t> lengths;
    for (const auto& [k, v] : args) {
        keys.push_back(k.c_str());
        values.push_back(v.c_str());
    }
    for (const auto& s : sentences) {
        texts.push_back(s.data());
        lengths.push_back(s.size());
    }
    std::string proto, why;
    if (!api.train(keys.data(), values.data(), keys.size(), texts.data(), lengths.data(), texts.size(), append_to, &proto,
                   append_to, &why))
        return core::fail("tokenizer training failed: " + why);
    return core::write_file_atomically(model_path, proto);
}

}  // namespace fl::inference
