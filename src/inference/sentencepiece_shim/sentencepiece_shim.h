#pragma once
/// C interface of libfl_sentencepiece, a private plug-in that wraps libsentencepiece.
///
/// Why a plug-in: Debian's libsentencepiece bundles its own protobuf-lite and exports all of its symbols, which
/// clash with the libprotobuf that LibTorch loads (the process crashes in protobuf's static initialisers, or
/// sentencepiece calls into the wrong protobuf). The tokenizer therefore dlopen()s this plug-in with
/// RTLD_LOCAL | RTLD_DEEPBIND so sentencepiece binds to its own copy, and only plain C crosses the boundary.

#include <stddef.h>

extern "C" {

/// Receives bytes produced inside the plug-in (an error message or a serialized model).
typedef void (*fl_spm_sink)(void* ctx, const char* data, size_t len);

/// Loads a .model file; null on failure (the message goes to `err`).
typedef void* (*fl_spm_load_fn)(const char* path, fl_spm_sink err, void* err_ctx);
/// Frees a handle from fl_spm_load.
typedef void (*fl_spm_free_fn)(void* handle);
/// Number of pieces in the vocabulary.
typedef int (*fl_spm_piece_size_fn)(void* handle);
/// Encodes UTF-8 text to ids; writes at most `cap` ids to `out` and returns how many there are in all.
typedef size_t (*fl_spm_encode_fn)(void* handle, const char* text, size_t len, int* out, size_t cap);
/// Trains a model from `count` sentences with trainer flags `keys[i]=values[i]`; the serialized model goes to
/// `model`. Returns 1 on success, 0 with a message sent to `err`.
typedef int (*fl_spm_train_fn)(const char* const* keys, const char* const* values, size_t nargs,
                               const char* const* sentences, const size_t* lengths, size_t count, fl_spm_sink model,
                               void* model_ctx, fl_spm_sink err, void* err_ctx);

}  // extern "C"
