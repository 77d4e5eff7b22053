#pragma once
/// The SentencePiece tokenizer path used by T5-style text encoders (pad 0, EOS 1, no BOS).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "frameloom/core/result.h"

namespace fl::inference {

/// Token ids of one text and the number of real tokens (EOS included).
struct Tokens {
    std::vector<int64_t> ids;  ///< padded with 0 to max_length
    int64_t length = 0;        ///< real tokens including EOS
};

/// A SentencePiece model plus the reference's cleaning (whitespace collapse, HTML unescape, strip).
class Tokenizer {
public:
    /// Loads a `.model` file (or the `spiece.model` inside a folder); "tokenizer file missing or corrupt: <path>"
    /// on failure.
    static core::Result<Tokenizer> load(const std::filesystem::path& model_path);
    Tokenizer(Tokenizer&&) noexcept;
    Tokenizer& operator=(Tokenizer&&) noexcept;
    ~Tokenizer();

    /// Cleans, encodes, truncates to max_length-1 pieces, appends EOS (id 1), pads with 0 to max_length.
    Tokens encode(const std::string& text, int64_t max_length) const;
    int64_t vocab_size() const;

    /// Trains a SentencePiece model on `sentences` and writes it to `model_path` (used to build models).
    static core::Result<void> train(const std::vector<std::string>& sentences, int vocab_size,
                                    const std::filesystem::path& model_path);
    /// Same, choosing the SentencePiece model type: "unigram" (as umT5) or "bpe".
    static core::Result<void> train(const std::vector<std::string>& sentences, int vocab_size,
                                    const std::filesystem::path& model_path, const std::string& model_type);

    /// The reference's text cleaning: ftfy's fixes that matter after NFKC (straight quotes, control
    /// characters removed, HTML entities), unescape HTML entities (twice), strip, collapse whitespace runs.
    static std::string clean(const std::string& text);

private:
    Tokenizer() = default;
    /// The loaded SentencePiece model, behind the sentencepiece plug-in (see tokenizer.cpp for why).
    struct Model;
    std::unique_ptr<Model> model_;
};

}  // namespace fl::inference
