#include "frameloom/inference/model_store.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

namespace fl::inference {
namespace {
namespace fs = std::filesystem;

const char* kCard = R"json({
  "id": "shapes-tiny",
  "aliases": ["default", "tiny"],
  "name": "Shapes (tiny)",
  "description": "A tiny model of moving shapes.",
  "architecture": "wan-dit",
  "codec": "patch",
  "codec_patch": [1, 4, 4],
  "files": {"dit": "diffusion_models/shapes.safetensors", "tokenizer": "text_encoders/shapes.model"},
  "tasks": ["t2v"],
  "defaults": {"steps": 12, "guidance": 4.5, "shift": 2.0, "sampler": "unipc", "width": 96, "height": 64, "frames": 17,
               "fps": "30000/1001", "negative_prompt": "blurry"},
  "trained": true
})json";

class ModelStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string tmpl = (fs::temp_directory_path() / "fl-models-XXXXXX").string();
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        dir_ = tmpl;
        fs::create_directories(dir_ / "a" / "diffusion_models");
        fs::create_directories(dir_ / "b");
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    fs::path write(const fs::path& rel, const std::string& text) {
        const fs::path p = dir_ / rel;
        std::ofstream(p) << text;
        return p;
    }
    /// The card with one field's JSON text replaced.
    static std::string with(const std::string& field, const std::string& value) {
        std::string s = kCard;
        const auto at = s.find("\"" + field + "\":");
        EXPECT_NE(at, std::string::npos) << field;
        const auto start = at + field.size() + 3;
        auto end = start;
        int depth = 0;
        for (; end < s.size(); ++end) {
            const char c = s[end];
            if (c == '[' || c == '{') ++depth;
            if (c == ']' || c == '}') {
                if (depth == 0) break;
                --depth;
            }
            if (c == ',' && depth == 0) break;
        }
        return s.substr(0, start) + " " + value + s.substr(end);
    }
    fs::path dir_;
};

TEST_F(ModelStoreTest, ReadsEveryField) {
    const fs::path p = write("a/shapes-tiny.json", kCard);
    auto c = load_model_card(p);
    ASSERT_TRUE(c.ok()) << c.message();
    EXPECT_EQ(c->id, "shapes-tiny");
    EXPECT_EQ(c->aliases, (std::vector<std::string>{"default", "tiny"}));
    EXPECT_EQ(c->name, "Shapes (tiny)");
    EXPECT_EQ(c->description, "A tiny model of moving shapes.");
    EXPECT_EQ(c->architecture, "wan-dit");
    EXPECT_EQ(c->codec, "patch");
    EXPECT_EQ(c->codec_patch, (std::vector<int>{1, 4, 4}));
    EXPECT_EQ(c->files.at("dit"), "diffusion_models/shapes.safetensors");
    EXPECT_EQ(c->tasks, (std::vector<std::string>{"t2v"}));
    EXPECT_EQ(c->defaults.steps, 12);
    EXPECT_DOUBLE_EQ(c->defaults.guidance, 4.5);
    EXPECT_DOUBLE_EQ(c->defaults.shift, 2.0);
    EXPECT_EQ(c->defaults.sampler, "unipc");
    EXPECT_EQ(c->defaults.width, 96);
    EXPECT_EQ(c->defaults.height, 64);
    EXPECT_EQ(c->defaults.frames, 17);
    EXPECT_EQ(c->defaults.fps, (core::FrameRate{30000, 1001}));
    EXPECT_EQ(c->defaults.negative_prompt, "blurry");
    EXPECT_TRUE(c->trained);
    EXPECT_EQ(c->card_path, p);
    EXPECT_EQ(c->file("dit"), dir_ / "a" / "diffusion_models/shapes.safetensors");
    EXPECT_EQ(c->file("vae"), fs::path());

    // Both files are missing; then the dit appears.
    EXPECT_EQ(c->missing_files(), (std::vector<std::string>{"dit: diffusion_models/shapes.safetensors",
                                                            "tokenizer: text_encoders/shapes.model"}));
    write("a/diffusion_models/shapes.safetensors", "x");
    EXPECT_EQ(c->missing_files(), (std::vector<std::string>{"tokenizer: text_encoders/shapes.model"}));
}

TEST_F(ModelStoreTest, MinimalCardTakesDefaults) {
    auto c = load_model_card(write("a/min.json", R"({"id": "m", "architecture": "wan-dit", "defaults": {"fps": 8}})"));
    ASSERT_TRUE(c.ok()) << c.message();
    EXPECT_EQ(c->name, "m");
    EXPECT_EQ(c->defaults.steps, 20);
    EXPECT_EQ(c->defaults.sampler, "euler");  // no sampler field: Euler
    EXPECT_EQ(c->defaults.fps, (core::FrameRate{8, 1}));
    EXPECT_FALSE(c->trained);
    EXPECT_TRUE(c->files.empty());
}

TEST_F(ModelStoreTest, ErrorsNameTheField) {
    struct Case {
        std::string field, value, named;
    };
    const std::vector<Case> cases = {
        {"id", "3", "'id'"},
        {"id", "\"\"", "'id'"},
        {"aliases", "\"default\"", "'aliases'"},
        {"architecture", "null", "'architecture'"},
        {"codec_patch", "[1, 4]", "'codec_patch'"},
        {"files", "{\"dit\": 5}", "'files.dit'"},
        {"tasks", "[1]", "'tasks'"},
        {"steps", "\"many\"", "'defaults.steps'"},
        {"steps", "0", "'defaults.steps'"},
        {"guidance", "\"high\"", "'defaults.guidance'"},
        {"sampler", "\"ddim\"", "'defaults.sampler'"},
        {"sampler", "2", "'defaults.sampler'"},
        {"width", "-64", "'defaults.width'"},
        {"fps", "\"fast\"", "'defaults.fps'"},
        {"fps", "\"0\"", "'defaults.fps'"},
        {"negative_prompt", "[]", "'defaults.negative_prompt'"},
        {"trained", "\"yes\"", "'trained'"},
    };
    for (const auto& c : cases) {
        const fs::path p = write("a/bad.json", with(c.field, c.value));
        auto card = load_model_card(p);
        ASSERT_FALSE(card.ok()) << c.field << " = " << c.value;
        EXPECT_NE(card.message().find(c.named), std::string::npos) << card.message();
        EXPECT_NE(card.message().find(p.string()), std::string::npos) << card.message();
    }
    EXPECT_FALSE(load_model_card(write("a/junk.json", "{ not json")).ok());
    EXPECT_FALSE(load_model_card(write("a/arr.json", "[]")).ok());
    EXPECT_FALSE(load_model_card(dir_ / "a" / "none.json").ok());
}

TEST_F(ModelStoreTest, FindsByIdAliasAndPath) {
    write("a/shapes-tiny.json", kCard);
    write("a/other.json", R"({"id": "other", "architecture": "wan-dit"})");
    write("a/broken.json", R"({"id": "broken", "architecture": 3})");
    write("a/notes.txt", "not a card");
    // The second root repeats an id (the first root wins) and adds one of its own.
    write("b/dup.json", R"({"id": "shapes-tiny", "name": "shadowed", "architecture": "wan-dit"})");
    write("b/extra.json", R"({"id": "extra", "aliases": ["x"], "architecture": "wan-dit"})");
    const ModelStore store({dir_ / "a", dir_ / "b", dir_ / "does-not-exist"});

    const auto cards = store.list();
    std::vector<std::string> ids;
    for (const auto& c : cards) ids.push_back(c.id);
    EXPECT_EQ(ids, (std::vector<std::string>{"other", "shapes-tiny", "extra"}));

    auto by_id = store.find("shapes-tiny");
    ASSERT_TRUE(by_id.ok()) << by_id.message();
    EXPECT_EQ(by_id->name, "Shapes (tiny)");
    EXPECT_EQ(by_id->root, dir_ / "a");
    auto by_alias = store.find("default");
    ASSERT_TRUE(by_alias.ok());
    EXPECT_EQ(by_alias->id, "shapes-tiny");
    auto other_root = store.find("x");
    ASSERT_TRUE(other_root.ok());
    EXPECT_EQ(other_root->id, "extra");
    auto by_path = store.find((dir_ / "b" / "dup.json").string());
    ASSERT_TRUE(by_path.ok()) << by_path.message();
    EXPECT_EQ(by_path->name, "shadowed");

    auto unknown = store.find("nope");
    ASSERT_FALSE(unknown.ok());
    EXPECT_EQ(unknown.message(), "unknown model 'nope': run `frameloom models` to see installed models");
    auto broken = store.find("broken");
    ASSERT_FALSE(broken.ok());
    EXPECT_NE(broken.message().find("'architecture'"), std::string::npos) << broken.message();
    EXPECT_FALSE(store.find((dir_ / "missing.json").string()).ok());
}

TEST_F(ModelStoreTest, DefaultRootsHonourEnvironment) {
    ::setenv("FRAMELOOM_MODELS", (dir_ / "b").c_str(), 1);
    const auto roots = ModelStore::default_roots();
    ::unsetenv("FRAMELOOM_MODELS");
    ASSERT_FALSE(roots.empty());
    EXPECT_EQ(roots.front(), fs::weakly_canonical(dir_ / "b"));
    for (size_t i = 0; i < roots.size(); ++i)
        for (size_t j = i + 1; j < roots.size(); ++j) EXPECT_NE(roots[i], roots[j]);
}

}  // namespace
}  // namespace fl::inference
