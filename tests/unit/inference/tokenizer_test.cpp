#include "inference/tokenizer.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

namespace fl::inference {
namespace {
namespace fs = std::filesystem;

/// A few hundred short prompts built from small word lists (deterministic).
std::vector<std::string> corpus() {
    const char* adjectives[] = {"red", "blue", "green", "small", "large", "bright", "dark", "slow", "fast", "quiet"};
    const char* nouns[] = {"fox", "circle", "square", "river", "mountain", "city", "robot", "cat", "tree", "boat"};
    const char* verbs[] = {"moves", "jumps", "spins", "glows", "drifts", "falls", "rises", "waits"};
    const char* places[] = {"over the hill", "under the bridge", "in the rain", "at night", "near the sea", "on a table"};
    std::vector<std::string> out;
    for (int i = 0; i < 400; ++i) {
        out.push_back(std::string("a ") + adjectives[i % 10] + " " + nouns[(i / 10) % 10] + " " + verbs[(i / 7) % 8] + " " +
                      places[(i / 3) % 6]);
    }
    return out;
}

class TokenizerTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        std::string tmpl = (fs::temp_directory_path() / "fl-tokenizer-XXXXXX").string();
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        dir_ = tmpl;
        auto trained = Tokenizer::train(corpus(), 120, dir_ / "tiny.model");
        ASSERT_TRUE(trained.ok()) << trained.message();
    }
    static void TearDownTestSuite() {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    static Tokenizer load() {
        auto t = Tokenizer::load(dir_ / "tiny.model");
        EXPECT_TRUE(t.ok()) << t.message();
        return std::move(t.value());
    }
    static inline fs::path dir_;
};

TEST_F(TokenizerTest, EncodesAppendsEosAndPads) {
    const Tokenizer tok = load();
    EXPECT_GE(tok.vocab_size(), 50);
    const Tokens t = tok.encode("a red fox jumps", 32);
    ASSERT_EQ(t.ids.size(), 32u);
    ASSERT_GE(t.length, 2);
    EXPECT_EQ(t.ids[static_cast<size_t>(t.length - 1)], 1);  // EOS
    for (int64_t i = 0; i < t.length - 1; ++i) {
        EXPECT_GT(t.ids[static_cast<size_t>(i)], 1) << "no pad or EOS inside the text";
    }
    for (size_t i = static_cast<size_t>(t.length); i < t.ids.size(); ++i) EXPECT_EQ(t.ids[i], 0);
    // Deterministic, and different texts give different ids.
    EXPECT_EQ(tok.encode("a red fox jumps", 32).ids, t.ids);
    EXPECT_NE(tok.encode("a blue boat drifts", 32).ids, t.ids);
}

TEST_F(TokenizerTest, LoadsSpieceModelFromAFolder) {
    fs::create_directories(dir_ / "umt5");
    fs::copy_file(dir_ / "tiny.model", dir_ / "umt5" / "spiece.model", fs::copy_options::overwrite_existing);
    auto t = Tokenizer::load(dir_ / "umt5");
    ASSERT_TRUE(t.ok()) << t.message();
    EXPECT_EQ(t->encode("a red fox", 8).ids, load().encode("a red fox", 8).ids);
}

TEST_F(TokenizerTest, EmptyTextIsJustEos) {
    const Tokens t = load().encode("   ", 4);
    EXPECT_EQ(t.length, 1);
    EXPECT_EQ(t.ids, (std::vector<int64_t>{1, 0, 0, 0}));
}

TEST_F(TokenizerTest, TruncatesToMaxLengthMinusOne) {
    const Tokenizer tok = load();
    std::string long_text;
    for (int i = 0; i < 30; ++i) long_text += "a bright mountain glows near the sea ";
    const Tokens full = tok.encode(long_text, 512);
    ASSERT_GT(full.length, 9);
    const Tokens t = tok.encode(long_text, 8);
    ASSERT_EQ(t.ids.size(), 8u);
    EXPECT_EQ(t.length, 8);
    EXPECT_EQ(t.ids[7], 1);
    for (size_t i = 0; i < 7; ++i) EXPECT_EQ(t.ids[i], full.ids[i]);
}

TEST_F(TokenizerTest, CleansBeforeEncoding) {
    const Tokenizer tok = load();
    EXPECT_EQ(tok.encode("  a   red\t\nfox  ", 16).ids, tok.encode("a red fox", 16).ids);
    EXPECT_EQ(tok.encode("a&nbsp;red fox", 16).ids, tok.encode("a red fox", 16).ids);
}

TEST(TokenizerClean, UnescapesTwiceStripsAndCollapses) {
    EXPECT_EQ(Tokenizer::clean("  a   b \t\n c  "), "a b c");
    EXPECT_EQ(Tokenizer::clean("&lt;b&gt; &quot;x&quot; &#39;y&#39;"), "<b> \"x\" 'y'");
    EXPECT_EQ(Tokenizer::clean("a &amp;amp; b"), "a & b");            // applied twice
    // ftfy unescapes once more first, unless the text has a '<' (it might be HTML).
    EXPECT_EQ(Tokenizer::clean("a &amp;amp;amp; b"), "a & b");
    EXPECT_EQ(Tokenizer::clean("<a &amp;amp;amp; b"), "<a &amp; b");
    EXPECT_EQ(Tokenizer::clean("a &amp;amp;amp;amp; b"), "a &amp; b");
    // ftfy: curly quotes straightened, invisible control characters (and a BOM) removed.
    EXPECT_EQ(Tokenizer::clean("\xE2\x80\x9C"
                               "dawn\xE2\x80\x9D, the hero\xE2\x80\x99"
                               "s \xE2\x80\x98"
                               "walk\xE2\x80\x99"),
              "\"dawn\", the hero's 'walk'");
    EXPECT_EQ(Tokenizer::clean("\xEF\xBB\xBF"
                               "a\x01"
                               "b\x7F c\xE2\x81\xAA"),
              "ab c");
    EXPECT_EQ(Tokenizer::clean("caf\xC3\xA9 \xE4\xBD\xA0\xE5\xA5\xBD"),
              "caf\xC3\xA9 \xE4\xBD\xA0\xE5\xA5\xBD");  // other text untouched
    EXPECT_EQ(Tokenizer::clean("bad \xFF byte"), "bad \xFF byte");
    EXPECT_EQ(Tokenizer::clean("&#65;&#x42;&#X43;"), "ABC");
    EXPECT_EQ(Tokenizer::clean("caf&#233;"), "caf\xC3\xA9");
    EXPECT_EQ(Tokenizer::clean("&#128512;"), "\xF0\x9F\x98\x80");
    EXPECT_EQ(Tokenizer::clean("a&nbsp;&nbsp;b\xE3\x80\x80" "c"), "a b c");  // Unicode spaces collapse too
    EXPECT_EQ(Tokenizer::clean("AT&T & co; &unknown;"), "AT&T & co; &unknown;");
    EXPECT_EQ(Tokenizer::clean("&#0;"), "\xEF\xBF\xBD");
    EXPECT_EQ(Tokenizer::clean("小猫在跳舞"), "小猫在跳舞");
    EXPECT_EQ(Tokenizer::clean(""), "");
}

TEST(TokenizerLoad, MissingOrCorruptFile) {
    auto missing = Tokenizer::load("/nonexistent/spiece.model");
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.message().find("tokenizer file missing or corrupt: /nonexistent/spiece.model"), std::string::npos);

    const fs::path junk = fs::temp_directory_path() / "fl-tokenizer-junk.model";
    std::ofstream(junk) << "not a model";
    auto corrupt = Tokenizer::load(junk);
    fs::remove(junk);
    ASSERT_FALSE(corrupt.ok());
    EXPECT_NE(corrupt.message().find("tokenizer file missing or corrupt"), std::string::npos);
}

TEST(TokenizerTrain, BpeAndBadArguments) {
    std::string tmpl = (fs::temp_directory_path() / "fl-tokenizer-bpe-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    const fs::path dir = tmpl;
    ASSERT_TRUE(Tokenizer::train(corpus(), 100, dir / "bpe.model", "bpe").ok());
    auto tok = Tokenizer::load(dir / "bpe.model");
    ASSERT_TRUE(tok.ok()) << tok.message();
    const Tokens t = tok->encode("a slow cat waits", 12);
    EXPECT_EQ(t.ids[static_cast<size_t>(t.length - 1)], 1);
    EXPECT_FALSE(Tokenizer::train(corpus(), 100, dir / "x.model", "wordpiece").ok());
    EXPECT_FALSE(Tokenizer::train({}, 100, dir / "y.model").ok());
    fs::remove_all(dir);
}

}  // namespace
}  // namespace fl::inference
