// libfl_sentencepiece: the C interface of sentencepiece_shim.h over libsentencepiece (see the header for why).
#include "inference/sentencepiece_shim/sentencepiece_shim.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <exception>
#include <memory>
#include <type_traits>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

void send(fl_spm_sink sink, void* ctx, const std::string& s) {
    if (sink) sink(ctx, s.data(), s.size());
}

/// Feeds an in-memory sentence list to the trainer.
class ArrayIterator : public sentencepiece::SentenceIterator {
public:
    ArrayIterator(const char* const* s, const size_t* n, size_t count) : s_(s), n_(n), count_(count) { fill(); }
    bool done() const override { return i_ >= count_; }
    void Next() override {
        ++i_;
        fill();
    }
    const std::string& value() const override { return value_; }
    sentencepiece::util::Status status() const override { return sentencepiece::util::Status(); }

private:
    void fill() {
        if (i_ < count_) value_.assign(s_[i_], n_[i_]);
    }
    const char* const* s_;
    const size_t* n_;
    size_t count_;
    size_t i_ = 0;
    std::string value_;
};

}  // namespace

extern "C" {

__attribute__((visibility("default"))) void* fl_spm_load(const char* path, fl_spm_sink err, void* err_ctx) {
    try {
        auto sp = std::make_unique<sentencepiece::SentencePieceProcessor>();
        const auto status = sp->Load(path);
        if (!status.ok()) {
            send(err, err_ctx, status.ToString());
            return nullptr;
        }
        return sp.release();
    } catch (const std::exception& e) {
        send(err, err_ctx, e.what());
        return nullptr;
    }
}

__attribute__((visibility("default"))) void fl_spm_free(void* handle) {
    delete static_cast<sentencepiece::SentencePieceProcessor*>(handle);
}

__attribute__((visibility("default"))) int fl_spm_piece_size(void* handle) {
    return static_cast<sentencepiece::SentencePieceProcessor*>(handle)->GetPieceSize();
}

__attribute__((visibility("default"))) size_t fl_spm_encode(void* handle, const char* text, size_t len, int* out,
                                                            size_t cap) {
    try {
        const std::vector<int> ids =
            static_cast<sentencepiece::SentencePieceProcessor*>(handle)->EncodeAsIds(std::string(text, len));
        for (size_t i = 0; i < ids.size() && i < cap; ++i) out[i] = ids[i];
        return ids.size();
    } catch (...) {
        return 0;
    }
}

__attribute__((visibility("default"))) int fl_spm_train(const char* const* keys, const char* const* values,
                                                        size_t nargs, const char* const* sentences,
                                                        const size_t* lengths, size_t count, fl_spm_sink model,
                                                        void* model_ctx, fl_spm_sink err, void* err_ctx) {
    try {
        std::unordered_map<std::string, std::string> args;
        for (size_t i = 0; i < nargs; ++i) args[keys[i]] = values[i];
        ArrayIterator it(sentences, lengths, count);
        std::string proto;
        const auto status = sentencepiece::SentencePieceTrainer::Train(args, &it, &proto);
        if (!status.ok()) {
            send(err, err_ctx, status.ToString());
            return 0;
        }
        send(model, model_ctx, proto);
        return 1;
    } catch (const std::exception& e) {
        send(err, err_ctx, e.what());
        return 0;
    }
}

}  // extern "C"

// The exported functions must match the typedefs the tokenizer looks them up as.
static_assert(std::is_same_v<decltype(&fl_spm_load), fl_spm_load_fn>);
static_assert(std::is_same_v<decltype(&fl_spm_free), fl_spm_free_fn>);
static_assert(std::is_same_v<decltype(&fl_spm_piece_size), fl_spm_piece_size_fn>);
static_assert(std::is_same_v<decltype(&fl_spm_encode), fl_spm_encode_fn>);
static_assert(std::is_same_v<decltype(&fl_spm_train), fl_spm_train_fn>);
