#include "frameloom/core/project_file.h"

#include <gtest/gtest.h>

#include "unit/core/core_test_util.h"

namespace fl::core {
namespace {

namespace fs = std::filesystem;
using test::read_bytes;
using test::sample_project;
using test::TempDir;
using test::write_bytes;

/// Replaces the first occurrence of `from` in `text` (shot params come before their takes' params).
std::string replace_once(std::string text, const std::string& from, const std::string& to) {
    const auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) text.replace(at, from.size(), to);
    return text;
}

/// Writes `bytes` as a project file, loads it, checks the error and that the file is byte-identical after.
std::string load_error(const std::string& bytes) {
    TempDir dir;
    const fs::path path = dir / "broken.flproj";
    write_bytes(path, bytes);
    const auto before_time = fs::last_write_time(path);
    const auto r = load_project(path);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(read_bytes(path), bytes) << "loading must never modify the file";
    EXPECT_EQ(fs::last_write_time(path), before_time);
    if (r.ok()) return {};
    const std::string prefix = "cannot open project " + path.string() + ": ";
    EXPECT_EQ(r.message().rfind(prefix, 0), 0u) << r.message();
    return r.message().substr(std::min(prefix.size(), r.message().size()));
}

TEST(ProjectFile, RoundTripIsLosslessWithEveryFieldSet) {
    const Project p = sample_project();
    ASSERT_TRUE(p.check_invariants().ok());
    const std::string text = project_to_json(p);
    const auto back = project_from_json(text);
    ASSERT_TRUE(back.ok()) << back.message();
    EXPECT_EQ(*back, p);
    // Spot-check fields equality would also catch, to make failures readable.
    EXPECT_EQ(back->shots[0].params.conditioning.references, p.shots[0].params.conditioning.references);
    EXPECT_EQ(back->shots[0].takes[1].params.guidance, 0.1 + 0.2);
    EXPECT_EQ(back->shots[1].params.conditioning.mask, "refs/sky-mask.png");
    EXPECT_EQ(back->shots[0].takes[0].params.seed, 18446744073709551615ULL);
    EXPECT_EQ(back->sequence.fps, (Rational{30000, 1001}));
    EXPECT_EQ(back->next_id, p.next_id);
    EXPECT_EQ(project_to_json(*back), text);  // stable output
}

TEST(ProjectFile, SamplerRoundTripsAndIsChecked) {
    Project p = sample_project();
    p.shots[0].params.sampler = "dpm++";
    const std::string text = project_to_json(p);
    EXPECT_NE(text.find("\"sampler\": \"dpm++\""), std::string::npos);
    const auto back = project_from_json(text);
    ASSERT_TRUE(back.ok()) << back.message();
    EXPECT_EQ(back->shots[0].params.sampler, "dpm++");
    EXPECT_EQ(back->shots[0].takes[0].params.sampler, p.shots[0].takes[0].params.sampler);
    EXPECT_EQ(*back, p);
    // A wrong type names the field.
    const auto bad = project_from_json(replace_once(text, "\"sampler\": \"dpm++\"", "\"sampler\": 3"));
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.message().find("sampler"), std::string::npos) << bad.message();
}

TEST(ProjectFile, ExtensionLengthRoundTripsAndIsChecked) {
    const Project p = sample_project();
    const std::string text = project_to_json(p);
    EXPECT_NE(text.find("\"extend_frames\": 36"), std::string::npos);
    const auto back = project_from_json(text);
    ASSERT_TRUE(back.ok()) << back.message();
    EXPECT_EQ(back->shots[0].params.conditioning.extend_frames, 36);
    const auto bad = project_from_json(replace_once(text, "\"extend_frames\": 36", "\"extend_frames\": -2"));
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.message().find("extend_frames"), std::string::npos) << bad.message();
    // Files from before the field read as one pass.
    const auto old = project_from_json(replace_once(text, ",\n          \"extend_frames\": 36", ""));
    ASSERT_TRUE(old.ok()) << old.message();
    EXPECT_EQ(old->shots[0].params.conditioning.extend_frames, 0);
    // A length without a clip to extend is refused by validation.
    GenerationParams lonely;
    lonely.prompt = "a red circle";
    lonely.conditioning.extend_frames = 8;
    EXPECT_FALSE(lonely.validate().ok());
}

TEST(ProjectFile, HeaderAndRatesAreReadable) {
    const std::string text = project_to_json(sample_project());
    EXPECT_EQ(text.rfind("{\n  \"format\": \"frameloom-project\",\n  \"schema_version\": 1,", 0), 0u)
        << text.substr(0, 80);
    EXPECT_NE(text.find("\"fps\": \"30000/1001\""), std::string::npos);
    EXPECT_NE(text.find("\"kind\": \"audio\""), std::string::npos);
}

TEST(ProjectFile, SaveAndLoadThroughDisk) {
    TempDir dir;
    const Project p = sample_project();
    const fs::path path = dir / "film.flproj";
    ASSERT_TRUE(save_project(p, path).ok());
    EXPECT_EQ(read_bytes(path), project_to_json(p));
    const auto back = load_project(path);
    ASSERT_TRUE(back.ok()) << back.message();
    EXPECT_EQ(*back, p);
    EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

TEST(ProjectFile, SaveRefusesInconsistentProjectAndKeepsOldFile) {
    TempDir dir;
    const fs::path path = dir / "film.flproj";
    ASSERT_TRUE(save_project(sample_project(), path).ok());
    const std::string good = read_bytes(path);
    Project bad = sample_project();
    bad.shots[0].selected_take = "take-404";
    const auto r = save_project(bad, path);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.message().find("take-404"), std::string::npos) << r.message();
    EXPECT_EQ(read_bytes(path), good);
}

TEST(ProjectFile, SaveIntoMissingFolderFails) {
    TempDir dir;
    const auto r = save_project(sample_project(), dir / "missing" / "film.flproj");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.message().find("does not exist"), std::string::npos);
}

TEST(ProjectFile, LoadMissingFileOrFolder) {
    TempDir dir;
    const auto missing = load_project(dir / "nope.flproj");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.message(),
              "cannot open project " + (dir / "nope.flproj").string() + ": No such file or directory");
    const auto folder = load_project(dir.path());
    ASSERT_FALSE(folder.ok());
    EXPECT_EQ(folder.message(), "cannot open project " + dir.path().string() + ": it is a folder");
}

TEST(ProjectFileCorrupt, GarbageIsNotAProject) {
    EXPECT_EQ(load_error("hello").rfind("not a Frameloom project (invalid JSON at line 1, column 1): ", 0),
              0u);
    EXPECT_EQ(load_error("").rfind("not a Frameloom project (invalid JSON at line 1, column 1): ", 0), 0u);
    EXPECT_EQ(load_error(std::string("\x89PNG\r\n\x1a\n\0\0", 10))
                  .rfind("not a Frameloom project (invalid JSON", 0),
              0u);
    EXPECT_EQ(load_error("[1, 2]"), "not a Frameloom project (expected a JSON object, found a list)");
    EXPECT_EQ(
        load_error("{\"format\": \"kdenlive\"}"),
        "not a Frameloom project (\"format\" is the text \"kdenlive\", expected \"frameloom-project\")");
}

TEST(ProjectFileCorrupt, TruncatedJsonNamesLineAndColumn) {
    const std::string text = project_to_json(sample_project());
    const std::string cut = text.substr(0, text.find("\"conditioning\""));
    const size_t lines = static_cast<size_t>(std::count(cut.begin(), cut.end(), '\n')) + 1;
    const std::string msg = load_error(cut);
    EXPECT_EQ(
        msg.rfind("not a Frameloom project (invalid JSON at line " + std::to_string(lines) + ", column ", 0),
        0u)
        << msg;
    EXPECT_NE(msg.find("unexpected end of input"), std::string::npos) << msg;

    const std::string bad_line = "{\n  \"format\": \"frameloom-project\",\n  \"schema_version\": 1,,\n}";
    EXPECT_EQ(load_error(bad_line).rfind("not a Frameloom project (invalid JSON at line 3, column 23)", 0),
              0u)
        << load_error(bad_line);
}

TEST(ProjectFileCorrupt, WrongTypesNameThePath) {
    const std::string text = project_to_json(sample_project());
    EXPECT_EQ(load_error(replace_once(text, "\"steps\": 25", "\"steps\": \"many\"")),
              "shots[0].params.steps: expected a positive integer, found the text \"many\"");
    EXPECT_EQ(load_error(replace_once(text, "\"kind\": \"audio\"", "\"kind\": \"midi\"")),
              "sequence.tracks[1].kind: expected \"video\" or \"audio\", found the text \"midi\"");
    EXPECT_EQ(load_error(replace_once(text, "\"in\": 2,", "\"in\": 2.5,")),
              "sequence.tracks[0].clips[0].in: expected a non-negative integer (frames), found 2.5");
    EXPECT_EQ(load_error(replace_once(text, "\"name\": \"Closing\"", "\"name\": null")),
              "shots[1].name: expected a text, found null");
    EXPECT_EQ(load_error(replace_once(text, "\"refs/dog.png\"", "7")),
              "shots[0].params.conditioning.references[1]: expected a text, found 7");
    EXPECT_EQ(
        load_error(replace_once(text, "\"fps\": \"30000/1001\",\n    \"width\"",
                                "\"fps\": \"fast\",\n    \"width\"")),
        "sequence.fps: expected a frame rate such as \"24\" or \"30000/1001\", found the text \"fast\"");
    EXPECT_EQ(load_error(replace_once(text,
                                      "\"generation_seconds\": 12.375,\n          \"params\": {\n            "
                                      "\"prompt\": \"a red circle\"",
                                      "\"generation_seconds\": true,\n          \"params\": {\n            "
                                      "\"prompt\": \"a red circle\"")),
              "shots[0].takes[0].generation_seconds: expected a number, found true");
}

TEST(ProjectFileCorrupt, NegativeStepsInThirdShot) {
    Project p = sample_project();
    Shot c;
    c.id = p.fresh_id("shot");
    c.params.steps = 17;
    p.shots.push_back(c);
    const std::string text = replace_once(project_to_json(p), "\"steps\": 17", "\"steps\": -3");
    EXPECT_EQ(load_error(text), "shots[2].params.steps: expected a positive integer, found -3");
}

TEST(ProjectFileCorrupt, NewerSchemaAsksForUpdate) {
    const std::string text =
        replace_once(project_to_json(sample_project()), "\"schema_version\": 1", "\"schema_version\": 7");
    EXPECT_EQ(load_error(text),
              "schema_version: this project was written by a newer Frameloom (version 7); update Frameloom");
    const std::string zero =
        replace_once(project_to_json(sample_project()), "\"schema_version\": 1", "\"schema_version\": 0");
    EXPECT_EQ(load_error(zero), "schema_version: expected a positive integer, found 0");
}

TEST(ProjectFileCorrupt, MissingRequiredFields) {
    const std::string text = project_to_json(sample_project());
    EXPECT_EQ(load_error(replace_once(text, "\"id\": \"clip-7\",", "")),
              "sequence.tracks[0].clips[1].id: missing (this field is required)");
    EXPECT_EQ(load_error(replace_once(text, "\"id\": \"shot-5\"", "\"id\": \"\"")),
              "shots[1].id: expected a non-empty text, found an empty one");
}

TEST(ProjectFileCorrupt, InconsistentProjectReportsInvariant) {
    const std::string text = project_to_json(sample_project());
    // clip-7 moved onto clip-6 (frames 0..48).
    const std::string overlap = replace_once(text, "\"position\": 60", "\"position\": 40");
    EXPECT_EQ(load_error(overlap),
              "the project is inconsistent: track track-1: clip clip-7 (from frame 40) overlaps clip clip-6 "
              "(until frame 48)");
    const std::string dangling =
        replace_once(text, "\"selected_take\": \"take-4\"", "\"selected_take\": \"take-40\"");
    EXPECT_NE(load_error(dangling).find("selects take take-40"), std::string::npos);
}

TEST(ProjectFile, MinimalAndHandWrittenFilesLoadWithDefaults) {
    const auto p = project_from_json(
        R"({"format": "frameloom-project", "schema_version": 1,
            "sequence": {"fps": 24, "tracks": [{"id": "v", "kind": "video"}]},
            "shots": [{"id": "s", "params": {"prompt": "hi", "fps": "29.97"}}]})");
    ASSERT_TRUE(p.ok()) << p.message();
    EXPECT_EQ(p->sequence.fps, (Rational{24, 1}));
    EXPECT_EQ(p->shots[0].params.fps, (Rational{30000, 1001}));
    EXPECT_EQ(p->shots[0].params.steps, GenerationParams{}.steps);
    EXPECT_EQ(p->shots[0].params.sampler, "euler");  // projects written before samplers were Euler
    EXPECT_EQ(p->name, "Untitled");
    EXPECT_TRUE(p->check_invariants().ok());
}

}  // namespace
}  // namespace fl::core
