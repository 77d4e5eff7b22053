#include "frameloom/inference/model_store.h"

#include <gtest/gtest.h>

#include <algorithm>
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

TEST_F(ModelStoreTest, ReadsAlternativesSourcesAndSizes) {
    const std::string card = with("files", R"({"dit": "diffusion_models/shapes.safetensors", "vae": "vae/v.safetensors"},
  "alternatives": {"dit": ["diffusion_models/shapes_bf16.safetensors", "Orig/diffusion_pytorch_model.safetensors.index.json"]},
  "sources": {"dit": "https://example.org/shapes.safetensors"},
  "sizes": ["832x480", "480x832"])");
    auto c = load_model_card(write("a/shapes-tiny.json", card));
    ASSERT_TRUE(c.ok()) << c.message();
    EXPECT_EQ(c->alternatives.at("dit").size(), 2u);
    EXPECT_EQ(c->sources.at("dit"), "https://example.org/shapes.safetensors");
    EXPECT_EQ(c->sizes, (std::vector<ModelSize>{{832, 480}, {480, 832}}));
    const fs::path root = dir_ / "a";
    EXPECT_EQ(c->accepted_files("dit"),
              (std::vector<fs::path>{root / "diffusion_models/shapes.safetensors",
                                     root / "diffusion_models/shapes_bf16.safetensors",
                                     root / "Orig/diffusion_pytorch_model.safetensors.index.json"}));

    // Nothing on disk: the primary path is named, described for a user, with its source.
    EXPECT_EQ(c->file("dit"), root / "diffusion_models/shapes.safetensors");
    auto missing = c->missing();
    ASSERT_EQ(missing.size(), 2u);
    EXPECT_EQ(missing[0].role, "dit");
    EXPECT_EQ(missing[0].what, "diffusion model");
    EXPECT_EQ(missing[0].path, "diffusion_models/shapes.safetensors");
    EXPECT_EQ(missing[0].source, "https://example.org/shapes.safetensors");
    EXPECT_EQ(missing[1].what, "VAE");
    EXPECT_EQ(missing[1].source, "");

    // The original repo's sharded index satisfies the role; then a listed alternative earlier in the list wins;
    // then the primary file wins over both.
    fs::create_directories(root / "Orig");
    write("a/Orig/diffusion_pytorch_model.safetensors.index.json", "{}");
    EXPECT_EQ(c->file("dit"), root / "Orig/diffusion_pytorch_model.safetensors.index.json");
    EXPECT_EQ(c->missing_files(), (std::vector<std::string>{"vae: vae/v.safetensors"}));
    write("a/diffusion_models/shapes_bf16.safetensors", "x");
    EXPECT_EQ(c->file("dit"), root / "diffusion_models/shapes_bf16.safetensors");
    write("a/diffusion_models/shapes.safetensors", "x");
    EXPECT_EQ(c->file("dit"), root / "diffusion_models/shapes.safetensors");
}

TEST_F(ModelStoreTest, NewFieldErrorsNameTheField) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {with("tasks", R"(["t2v"], "sizes": ["832*480"])"), "'sizes'"},
        {with("tasks", R"(["t2v"], "sizes": "832x480")"), "'sizes'"},
        {with("tasks", R"(["t2v"], "sizes": ["0x480"])"), "'sizes'"},
        {with("tasks", R"(["t2v"], "alternatives": {"vae": ["x"]})"), "'alternatives.vae'"},
        {with("tasks", R"(["t2v"], "alternatives": {"dit": "x"})"), "'alternatives.dit'"},
        {with("tasks", R"(["t2v"], "sources": {"dit": 3})"), "'sources.dit'"},
        {with("tasks", R"(["t2v"], "conditioning": "frame-mask", "position_channels": 3)"),
         "'position_channels'"},
        {with("tasks", R"(["t2v"], "position_channels": true)"), "'position_channels'"},  // needs frame-mask
    };
    for (const auto& [text, field] : cases) {
        auto c = load_model_card(write("a/bad.json", text));
        ASSERT_FALSE(c.ok()) << text;
        EXPECT_NE(c.message().find(field), std::string::npos) << c.message();
    }
}

TEST_F(ModelStoreTest, ListsCheckpointsNoCardClaims) {
    write("a/shapes-tiny.json", with("files", R"({"dit": "diffusion_models/shapes.safetensors"},
  "alternatives": {"dit": ["Orig/diffusion_pytorch_model.safetensors.index.json"]})"));
    fs::create_directories(dir_ / "a" / "Orig");
    fs::create_directories(dir_ / "a" / "loras");
    fs::create_directories(dir_ / "a" / ".cache");
    write("a/diffusion_models/shapes.safetensors", "x");                            // claimed
    write("a/diffusion_models/foo.safetensors", "x");                               // not claimed
    write("a/Orig/diffusion_pytorch_model.safetensors.index.json", "{}");           // claimed alternative
    write("a/Orig/diffusion_pytorch_model-00001-of-00002.safetensors", "x");        // its shards
    write("a/Orig/diffusion_pytorch_model-00002-of-00002.safetensors", "x");
    write("a/Orig/other.pth", "x");                                                 // not claimed
    write("a/loras/style.safetensors", "x");                                        // not claimed
    write("a/loras/readme.txt", "not a checkpoint");
    write("a/.cache/hidden.safetensors", "x");                                      // hidden folder: skipped
    write("a/top.safetensors", "x");                                                // beside the cards: not a store file
    const ModelStore store({dir_ / "a"});
    std::vector<std::string> found;
    for (const auto& u : store.unrecognised_files()) {
        EXPECT_EQ(u.root, dir_ / "a");
        found.push_back(u.relative.string());
    }
    EXPECT_EQ(found, (std::vector<std::string>{"Orig/other.pth", "diffusion_models/foo.safetensors",
                                               "loras/style.safetensors"}));
}

TEST_F(ModelStoreTest, EveryShippedCardLoads) {
    const fs::path models = FL_SOURCE_MODELS_DIR;
    const std::vector<std::string> wan = {"wan2.1-t2v-1.3b",     "wan2.1-t2v-14b",        "wan2.1-i2v-14b-480p",
                                          "wan2.1-i2v-14b-720p", "wan2.1-flf2v-14b-720p", "wan2.1-vace-1.3b",
                                          "wan2.2-ti2v-5b"};
    const ModelStore store({models});
    std::vector<std::string> ids;
    for (const auto& c : store.list()) ids.push_back(c.id);
    for (const auto& id : wan) EXPECT_NE(std::find(ids.begin(), ids.end(), id), ids.end()) << id;
    EXPECT_NE(std::find(ids.begin(), ids.end(), "shapes-tiny"), ids.end());

    for (const auto& path : fs::directory_iterator(models)) {
        if (path.path().extension() != ".json") continue;
        auto c = load_model_card(path.path());
        ASSERT_TRUE(c.ok()) << c.message();
        EXPECT_EQ(c->id + ".json", path.path().filename().string()) << "a card's file is named after its id";
        EXPECT_EQ(c->architecture, "wan-dit");
        EXPECT_FALSE(c->tasks.empty()) << c->id;
        if (c->id.rfind("wan", 0) != 0) continue;
        EXPECT_EQ(c->codec, c->id.rfind("wan2.2", 0) == 0 ? "wan22-vae" : "wan-vae") << c->id;
        EXPECT_EQ(c->defaults.sampler, "unipc") << c->id;
        EXPECT_FALSE(c->defaults.negative_prompt.empty()) << c->id;
        ASSERT_FALSE(c->sizes.empty()) << c->id;
        EXPECT_EQ(c->sizes.front(), (ModelSize{c->defaults.width, c->defaults.height})) << c->id;
        for (const char* role : {"dit", "text_encoder", "tokenizer", "vae"}) {
            ASSERT_TRUE(c->files.contains(role)) << c->id << " " << role;
            EXPECT_TRUE(c->sources.contains(role)) << c->id << " " << role;
            EXPECT_TRUE(c->alternatives.contains(role) && !c->alternatives.at(role).empty()) << c->id << " " << role;
        }
        const bool needs_clip = c->id.find("i2v-14b") != std::string::npos || c->id.find("flf2v") != std::string::npos;
        EXPECT_EQ(c->files.contains("clip_vision"), needs_clip) << c->id;
        for (const auto& [role, rel] : c->sources) EXPECT_EQ(rel.rfind("https://huggingface.co/", 0), 0u) << c->id;
    }
    // Spot-check §5.3 of the Wan reference.
    auto i2v = store.find("wan2.1-i2v-14b-480p");
    ASSERT_TRUE(i2v.ok());
    EXPECT_EQ(i2v->defaults.steps, 40);
    EXPECT_DOUBLE_EQ(i2v->defaults.shift, 3.0);
    EXPECT_EQ(i2v->files.at("clip_vision"), "clip_vision/clip_vision_h.safetensors");
    auto ti2v = store.find("wan2.2-ti2v-5b");
    ASSERT_TRUE(ti2v.ok());
    EXPECT_EQ(ti2v->defaults.frames, 121);
    EXPECT_EQ(ti2v->defaults.fps, (core::FrameRate{24, 1}));
    EXPECT_EQ(ti2v->files.at("vae"), "vae/wan2.2_vae.safetensors");
    auto flf = store.find("wan2.1-flf2v-14b-720p");
    ASSERT_TRUE(flf.ok());
    EXPECT_DOUBLE_EQ(flf->defaults.shift, 16.0);
    EXPECT_EQ(flf->defaults.width, 1280);
}

}  // namespace
}  // namespace fl::inference
