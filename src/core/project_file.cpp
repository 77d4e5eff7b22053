#include "frameloom/core/project_file.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <system_error>

#include "frameloom/core/atomic_file.h"

namespace fl::core {
namespace fs = std::filesystem;

namespace {

// Written with insertion order kept, so "format" and "schema_version" open the file and the key order
// is stable from save to save (diff-friendly).
using OJson = nlohmann::ordered_json;
using Json = nlohmann::json;

constexpr const char* kFormat = "frameloom-project";

// ---- Writing ----

OJson params_to_json(const GenerationParams& p) {
    OJson cond = OJson::object();
    cond["first_frame"] = p.conditioning.first_frame;
    cond["last_frame"] = p.conditioning.last_frame;
    cond["extend"] = p.conditioning.extend;
    cond["keep_source"] = p.conditioning.keep_source;
    if (p.conditioning.extend_frames > 0) cond["extend_frames"] = p.conditioning.extend_frames;
    cond["references"] = p.conditioning.references;
    if (!p.conditioning.video.empty()) cond["video"] = p.conditioning.video;
    if (!p.conditioning.mask.empty()) cond["mask"] = p.conditioning.mask;
    OJson j = OJson::object();
    j["prompt"] = p.prompt;
    j["negative_prompt"] = p.negative_prompt;
    j["model"] = p.model;
    j["seed"] = p.seed;
    j["steps"] = p.steps;
    j["guidance"] = p.guidance;
    j["shift"] = p.shift;
    j["sampler"] = p.sampler;
    j["width"] = p.width;
    j["height"] = p.height;
    j["frames"] = p.frames;
    j["fps"] = to_string(p.fps);
    j["conditioning"] = std::move(cond);
    return j;
}

OJson take_to_json(const Take& t) {
    OJson j = OJson::object();
    j["id"] = t.id;
    j["file"] = t.file;
    j["sha256"] = t.sha256;
    j["created"] = t.created;
    j["generation_seconds"] = t.generation_seconds;
    j["params"] = params_to_json(t.params);
    return j;
}

OJson shot_to_json(const Shot& s) {
    OJson j = OJson::object();
    j["id"] = s.id;
    j["name"] = s.name;
    j["params"] = params_to_json(s.params);
    j["selected_take"] = s.selected_take;
    OJson takes = OJson::array();
    for (const Take& t : s.takes) takes.push_back(take_to_json(t));
    j["takes"] = std::move(takes);
    return j;
}

OJson clip_to_json(const Clip& c) {
    OJson src = OJson::object();
    src["shot_id"] = c.source.shot_id;
    src["take_id"] = c.source.take_id;
    src["file"] = c.source.file;
    OJson j = OJson::object();
    j["id"] = c.id;
    j["name"] = c.name;
    j["source"] = std::move(src);
    j["in"] = c.in;
    j["out"] = c.out;
    j["position"] = c.position;
    // Timeline properties are written only when set, so files without them stay as they were.
    if (c.speed != Rational{1, 1}) j["speed"] = to_string(c.speed);
    if (c.fade_in != 0) j["fade_in"] = c.fade_in;
    if (c.fade_out != 0) j["fade_out"] = c.fade_out;
    if (c.gain_db != 0.0) j["gain_db"] = c.gain_db;
    if (c.transition_in != 0) j["transition_in"] = c.transition_in;
    return j;
}

OJson track_to_json(const Track& t) {
    OJson j = OJson::object();
    j["id"] = t.id;
    j["name"] = t.name;
    j["kind"] = t.kind == TrackKind::Video ? "video" : "audio";
    OJson clips = OJson::array();
    for (const Clip& c : t.clips) clips.push_back(clip_to_json(c));
    j["clips"] = std::move(clips);
    return j;
}

// ---- Reading: every accessor names the field's path in its error ----

std::string describe(const Json& v) {
    switch (v.type()) {
        case Json::value_t::null:
            return "null";
        case Json::value_t::boolean:
            return v.get<bool>() ? "true" : "false";
        case Json::value_t::number_integer:
        case Json::value_t::number_unsigned:
        case Json::value_t::number_float:
            return v.dump();
        case Json::value_t::string: {
            std::string s = v.dump(-1, ' ', false, Json::error_handler_t::replace);
            if (s.size() > 40) s = s.substr(0, 37) + "...\"";
            return "the text " + s;
        }
        case Json::value_t::array:
            return "a list";
        case Json::value_t::object:
            return "an object";
        default:
            return "an unsupported value";
    }
}

Error field_error(const std::string& path, const std::string& expected, const Json& found) {
    return fail(path + ": expected " + expected + ", found " + describe(found));
}

std::string join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
}
std::string index(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }

/// The member `key` of object `obj`, or nullptr when absent.
const Json* member(const Json& obj, const std::string& key) {
    const auto it = obj.find(key);
    return it == obj.end() ? nullptr : &*it;
}

Result<const Json*> require(const Json& obj, const std::string& path, const std::string& key) {
    const Json* v = member(obj, key);
    if (!v) return fail(join(path, key) + ": missing (this field is required)");
    return v;
}

Result<void> expect_object(const Json& v, const std::string& path) {
    if (!v.is_object()) return field_error(path, "an object", v);
    return ok();
}

/// Reads an optional string member into `out` (left as is when absent).
Result<void> read_string(const Json& obj, const std::string& path, const std::string& key, std::string& out,
                         bool required = false, bool non_empty = false) {
    const Json* v = member(obj, key);
    if (!v) {
        if (required) return fail(join(path, key) + ": missing (this field is required)");
        return ok();
    }
    if (!v->is_string()) return field_error(join(path, key), non_empty ? "a non-empty text" : "a text", *v);
    out = v->get<std::string>();
    if (non_empty && out.empty())
        return fail(join(path, key) + ": expected a non-empty text, found an empty one");
    return ok();
}

/// Reads an integer member within [min, max]; `what` describes the expectation ("a positive integer").
Result<void> read_int64(const Json& obj, const std::string& path, const std::string& key, int64_t& out,
                        int64_t min, int64_t max, const std::string& what, bool required = false) {
    const Json* v = member(obj, key);
    if (!v) {
        if (required) return fail(join(path, key) + ": missing (this field is required)");
        return ok();
    }
    if (v->is_number_unsigned()) {
        const uint64_t u = v->get<uint64_t>();
        if (u > static_cast<uint64_t>(max)) return field_error(join(path, key), what, *v);
        out = static_cast<int64_t>(u);
        return ok();
    }
    if (!v->is_number_integer()) return field_error(join(path, key), what, *v);
    const int64_t i = v->get<int64_t>();
    if (i < min || i > max) return field_error(join(path, key), what, *v);
    out = i;
    return ok();
}

Result<void> read_int(const Json& obj, const std::string& path, const std::string& key, int& out, int min,
                      int max, const std::string& what, bool required = false) {
    int64_t value = out;
    FL_TRY(read_int64(obj, path, key, value, min, max, what, required));
    out = static_cast<int>(value);
    return ok();
}

Result<void> read_uint64(const Json& obj, const std::string& path, const std::string& key, uint64_t& out) {
    const Json* v = member(obj, key);
    if (!v) return ok();
    if (v->is_number_unsigned()) {
        out = v->get<uint64_t>();
        return ok();
    }
    if (v->is_number_integer() && v->get<int64_t>() >= 0) {
        out = static_cast<uint64_t>(v->get<int64_t>());
        return ok();
    }
    return field_error(join(path, key), "a non-negative integer", *v);
}

Result<void> read_double(const Json& obj, const std::string& path, const std::string& key, double& out) {
    const Json* v = member(obj, key);
    if (!v) return ok();
    if (!v->is_number()) return field_error(join(path, key), "a number", *v);
    out = v->get<double>();
    return ok();
}

Result<void> read_rate(const Json& obj, const std::string& path, const std::string& key, FrameRate& out) {
    const Json* v = member(obj, key);
    if (!v) return ok();
    const std::string what = "a frame rate such as \"24\" or \"30000/1001\"";
    std::string text;
    if (v->is_string()) {
        text = v->get<std::string>();
    } else if (v->is_number_integer() || v->is_number_unsigned()) {
        text = v->dump();  // tolerate hand-written "fps": 24
    } else {
        return field_error(join(path, key), what, *v);
    }
    auto rate = parse_frame_rate(text);
    if (!rate) return field_error(join(path, key), what, *v);
    out = *rate;
    return ok();
}

Result<GenerationParams> params_from_json(const Json& j, const std::string& path) {
    FL_TRY(expect_object(j, path));
    GenerationParams p;
    constexpr int kIntMax = std::numeric_limits<int>::max();
    FL_TRY(read_string(j, path, "prompt", p.prompt));
    FL_TRY(read_string(j, path, "negative_prompt", p.negative_prompt));
    FL_TRY(read_string(j, path, "model", p.model));
    FL_TRY(read_uint64(j, path, "seed", p.seed));
    FL_TRY(read_int(j, path, "steps", p.steps, 1, kIntMax, "a positive integer"));
    FL_TRY(read_double(j, path, "guidance", p.guidance));
    FL_TRY(read_double(j, path, "shift", p.shift));
    FL_TRY(read_string(j, path, "sampler", p.sampler));  // absent in projects written before samplers: euler
    FL_TRY(read_int(j, path, "width", p.width, 1, kIntMax, "a positive integer"));
    FL_TRY(read_int(j, path, "height", p.height, 1, kIntMax, "a positive integer"));
    FL_TRY(read_int(j, path, "frames", p.frames, 1, kIntMax, "a positive integer"));
    FL_TRY(read_rate(j, path, "fps", p.fps));
    if (const Json* c = member(j, "conditioning")) {
        const std::string cpath = join(path, "conditioning");
        FL_TRY(expect_object(*c, cpath));
        FL_TRY(read_string(*c, cpath, "first_frame", p.conditioning.first_frame));
        FL_TRY(read_string(*c, cpath, "last_frame", p.conditioning.last_frame));
        FL_TRY(read_string(*c, cpath, "extend", p.conditioning.extend));
        FL_TRY(read_string(*c, cpath, "video", p.conditioning.video));
        FL_TRY(read_string(*c, cpath, "mask", p.conditioning.mask));
        if (const Json* keep = member(*c, "keep_source")) {
            if (!keep->is_boolean()) return field_error(join(cpath, "keep_source"), "true or false", *keep);
            p.conditioning.keep_source = keep->get<bool>();
        }
        if (member(*c, "extend_frames"))
            FL_TRY(read_int64(*c, cpath, "extend_frames", p.conditioning.extend_frames, 0, 100000, "a frame count from 0 to 100000"));
        if (const Json* refs = member(*c, "references")) {
            const std::string rpath = join(cpath, "references");
            if (!refs->is_array()) return field_error(rpath, "a list of texts", *refs);
            for (size_t i = 0; i < refs->size(); ++i) {
                const Json& r = (*refs)[i];
                if (!r.is_string()) return field_error(index(rpath, i), "a text", r);
                p.conditioning.references.push_back(r.get<std::string>());
            }
        }
    }
    return p;
}

Result<Take> take_from_json(const Json& j, const std::string& path) {
    FL_TRY(expect_object(j, path));
    Take t;
    FL_TRY(read_string(j, path, "id", t.id, true, true));
    FL_TRY(read_string(j, path, "file", t.file, true, true));
    FL_TRY(read_string(j, path, "sha256", t.sha256));
    FL_TRY(read_string(j, path, "created", t.created));
    FL_TRY(read_double(j, path, "generation_seconds", t.generation_seconds));
    if (const Json* p = member(j, "params")) {
        auto params = params_from_json(*p, join(path, "params"));
        if (!params) return params.error();
        t.params = std::move(*params);
    }
    return t;
}

Result<bool> read_bool(const Json& obj, const std::string& path, const std::string& key, bool fallback) {
    const Json* v = member(obj, key);
    if (!v) return fallback;
    if (!v->is_boolean()) return field_error(join(path, key), "true or false", *v);
    return v->get<bool>();
}

Result<QueuedGeneration> queued_generation_from_json(const Json& j, const std::string& path) {
    FL_TRY(expect_object(j, path));
    QueuedGeneration q;
    FL_TRY(read_string(j, path, "shot_id", q.shot_id, true, true));
    FL_TRY(read_string(j, path, "title", q.title));
    auto to_timeline = read_bool(j, path, "to_timeline", true);
    if (!to_timeline) return to_timeline.error();
    q.to_timeline = *to_timeline;
    auto correct = read_bool(j, path, "correct_extension", true);
    if (!correct) return correct.error();
    q.correct_extension = *correct;
    auto p = require(j, path, "params");
    if (!p) return p.error();
    auto params = params_from_json(**p, join(path, "params"));
    if (!params) return params.error();
    q.params = std::move(*params);
    return q;
}

Result<Shot> shot_from_json(const Json& j, const std::string& path) {
    FL_TRY(expect_object(j, path));
    Shot s;
    FL_TRY(read_string(j, path, "id", s.id, true, true));
    FL_TRY(read_string(j, path, "name", s.name));
    if (const Json* p = member(j, "params")) {
        auto params = params_from_json(*p, join(path, "params"));
        if (!params) return params.error();
        s.params = std::move(*params);
    }
    FL_TRY(read_string(j, path, "selected_take", s.selected_take));
    if (const Json* takes = member(j, "takes")) {
        const std::string tpath = join(path, "takes");
        if (!takes->is_array()) return field_error(tpath, "a list of takes", *takes);
        for (size_t i = 0; i < takes->size(); ++i) {
            auto t = take_from_json((*takes)[i], index(tpath, i));
            if (!t) return t.error();
            s.takes.push_back(std::move(*t));
        }
    }
    return s;
}

Result<Clip> clip_from_json(const Json& j, const std::string& path) {
    FL_TRY(expect_object(j, path));
    Clip c;
    constexpr int64_t kMax =
        std::numeric_limits<int64_t>::max() / 4;  // keeps position + duration from overflowing
    FL_TRY(read_string(j, path, "id", c.id, true, true));
    FL_TRY(read_string(j, path, "name", c.name));
    auto src = require(j, path, "source");
    if (!src) return src.error();
    const std::string spath = join(path, "source");
    FL_TRY(expect_object(**src, spath));
    FL_TRY(read_string(**src, spath, "shot_id", c.source.shot_id));
    FL_TRY(read_string(**src, spath, "take_id", c.source.take_id));
    FL_TRY(read_string(**src, spath, "file", c.source.file));
    FL_TRY(read_int64(j, path, "in", c.in, 0, kMax, "a non-negative integer (frames)", true));
    FL_TRY(read_int64(j, path, "out", c.out, 1, kMax, "a positive integer (frames)", true));
    FL_TRY(read_int64(j, path, "position", c.position, 0, kMax, "a non-negative integer (frames)", true));
    // Timeline properties (absent in older files: the defaults).
    if (const Json* speed = member(j, "speed")) {
        const std::string what = "a speed such as \"2\", \"1/2\" or 0.5 (1/100 .. 100)";
        std::string text;
        if (speed->is_string()) {
            text = speed->get<std::string>();
        } else if (speed->is_number_integer() || speed->is_number_unsigned()) {
            text = speed->dump();
        } else if (speed->is_number_float()) {
            char buf[64];
            std::snprintf(buf, sizeof buf, "%.6f", speed->get<double>());
            text = buf;
        } else {
            return field_error(join(path, "speed"), what, *speed);
        }
        auto parsed = parse_speed(text);
        if (!parsed) return field_error(join(path, "speed"), what, *speed);
        c.speed = *parsed;
    }
    FL_TRY(read_int64(j, path, "fade_in", c.fade_in, 0, kMax, "a non-negative integer (frames)"));
    FL_TRY(read_int64(j, path, "fade_out", c.fade_out, 0, kMax, "a non-negative integer (frames)"));
    FL_TRY(read_double(j, path, "gain_db", c.gain_db));
    FL_TRY(read_int64(j, path, "transition_in", c.transition_in, 0, kMax, "a non-negative integer (frames)"));
    return c;
}

Result<Track> track_from_json(const Json& j, const std::string& path) {
    FL_TRY(expect_object(j, path));
    Track t;
    FL_TRY(read_string(j, path, "id", t.id, true, true));
    FL_TRY(read_string(j, path, "name", t.name));
    if (const Json* kind = member(j, "kind")) {
        if (kind->is_string() && kind->get<std::string>() == "video") {
            t.kind = TrackKind::Video;
        } else if (kind->is_string() && kind->get<std::string>() == "audio") {
            t.kind = TrackKind::Audio;
        } else {
            return field_error(join(path, "kind"), "\"video\" or \"audio\"", *kind);
        }
    }
    if (const Json* clips = member(j, "clips")) {
        const std::string cpath = join(path, "clips");
        if (!clips->is_array()) return field_error(cpath, "a list of clips", *clips);
        for (size_t i = 0; i < clips->size(); ++i) {
            auto c = clip_from_json((*clips)[i], index(cpath, i));
            if (!c) return c.error();
            t.clips.push_back(std::move(*c));
        }
    }
    return t;
}

Result<Sequence> sequence_from_json(const Json& j, const std::string& path) {
    FL_TRY(expect_object(j, path));
    Sequence s;
    constexpr int kIntMax = std::numeric_limits<int>::max();
    FL_TRY(read_string(j, path, "name", s.name));
    FL_TRY(read_rate(j, path, "fps", s.fps));
    FL_TRY(read_int(j, path, "width", s.width, 1, kIntMax, "a positive integer"));
    FL_TRY(read_int(j, path, "height", s.height, 1, kIntMax, "a positive integer"));
    if (const Json* tracks = member(j, "tracks")) {
        const std::string tpath = join(path, "tracks");
        if (!tracks->is_array()) return field_error(tpath, "a list of tracks", *tracks);
        for (size_t i = 0; i < tracks->size(); ++i) {
            auto t = track_from_json((*tracks)[i], index(tpath, i));
            if (!t) return t.error();
            s.tracks.push_back(std::move(*t));
        }
    }
    return s;
}

/// Line and column (1-based) of the byte at 1-based offset `byte` in `text`.
std::pair<size_t, size_t> line_and_column(const std::string& text, size_t byte) {
    size_t line = 1, column = 1;
    const size_t end = std::min(byte > 0 ? byte - 1 : 0, text.size());
    for (size_t i = 0; i < end; ++i) {
        if (text[i] == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
    }
    return {line, column};
}

/// The human part of a nlohmann parse error ("syntax error while parsing ..."), without its prefix.
std::string parse_error_reason(const std::string& what) {
    const auto column = what.find("column ");
    if (column != std::string::npos) {
        const auto colon = what.find(": ", column);
        if (colon != std::string::npos) return what.substr(colon + 2);
    }
    const auto bracket = what.find("] ");
    return bracket == std::string::npos ? what : what.substr(bracket + 2);
}

}  // namespace

std::string project_to_json(const Project& project) {
    OJson j = OJson::object();
    j["format"] = kFormat;
    j["schema_version"] = Project::kSchemaVersion;
    j["name"] = project.name;
    j["next_id"] = project.next_id;
    OJson shots = OJson::array();
    for (const Shot& s : project.shots) shots.push_back(shot_to_json(s));
    j["shots"] = std::move(shots);
    OJson seq = OJson::object();
    seq["name"] = project.sequence.name;
    seq["fps"] = to_string(project.sequence.fps);
    seq["width"] = project.sequence.width;
    seq["height"] = project.sequence.height;
    OJson tracks = OJson::array();
    for (const Track& t : project.sequence.tracks) tracks.push_back(track_to_json(t));
    seq["tracks"] = std::move(tracks);
    j["sequence"] = std::move(seq);
    // Written only when there are some, so files without unfinished jobs stay as they were.
    if (!project.queued_generations.empty()) {
        OJson queued = OJson::array();
        for (const QueuedGeneration& q : project.queued_generations) {
            OJson e = OJson::object();
            e["shot_id"] = q.shot_id;
            e["title"] = q.title;
            e["to_timeline"] = q.to_timeline;
            e["correct_extension"] = q.correct_extension;
            e["params"] = params_to_json(q.params);
            queued.push_back(std::move(e));
        }
        j["queued_generations"] = std::move(queued);
    }
    // Invalid UTF-8 in a user string must not make saving throw; it is replaced by U+FFFD.
    return j.dump(2, ' ', false, OJson::error_handler_t::replace) + "\n";
}

Result<Project> project_from_json(const std::string& text) {
    Json j;
    try {
        j = Json::parse(text);
    } catch (const Json::parse_error& e) {
        const auto [line, column] = line_and_column(text, e.byte);
        return fail("not a Frameloom project (invalid JSON at line " + std::to_string(line) + ", column " +
                    std::to_string(column) + "): " + parse_error_reason(e.what()));
    }
    if (!j.is_object())
        return fail("not a Frameloom project (expected a JSON object, found " + describe(j) + ")");
    const Json* format = member(j, "format");
    if (!format || !format->is_string() || format->get<std::string>() != kFormat)
        return fail(std::string("not a Frameloom project (\"format\" is ") +
                    (format ? describe(*format) : "missing") + ", expected \"" + kFormat + "\")");
    const Json* version = member(j, "schema_version");
    if (!version) return fail("schema_version: missing (this field is required)");
    if (!version->is_number_integer() || version->get<int64_t>() < 1)
        return field_error("schema_version", "a positive integer", *version);
    if (const int64_t v = version->get<int64_t>(); v > Project::kSchemaVersion)
        return fail("schema_version: this project was written by a newer Frameloom (version " +
                    std::to_string(v) + "); update Frameloom");

    Project p;
    FL_TRY(read_string(j, "", "name", p.name));
    FL_TRY(read_int64(j, "", "next_id", p.next_id, 1, std::numeric_limits<int64_t>::max() / 2,
                      "a positive integer"));
    if (const Json* shots = member(j, "shots")) {
        if (!shots->is_array()) return field_error("shots", "a list of shots", *shots);
        for (size_t i = 0; i < shots->size(); ++i) {
            auto s = shot_from_json((*shots)[i], index("shots", i));
            if (!s) return s.error();
            p.shots.push_back(std::move(*s));
        }
    }
    auto seq = require(j, "", "sequence");
    if (!seq) return seq.error();
    auto sequence = sequence_from_json(**seq, "sequence");
    if (!sequence) return sequence.error();
    p.sequence = std::move(*sequence);
    if (const Json* queued = member(j, "queued_generations")) {  // optional: missing = no unfinished jobs
        if (!queued->is_array()) return field_error("queued_generations", "a list of generations", *queued);
        for (size_t i = 0; i < queued->size(); ++i) {
            auto q = queued_generation_from_json((*queued)[i], index("queued_generations", i));
            if (!q) return q.error();
            p.queued_generations.push_back(std::move(*q));
        }
    }

    if (auto r = p.check_invariants(); !r) return fail("the project is inconsistent: " + r.message());
    return p;
}

Result<void> save_project(const Project& project, const fs::path& path) {
    // Refuse to write what load_project would refuse to read: the file on disk stays the last good one.
    if (auto r = project.check_invariants(); !r)
        return fail("cannot save project " + path.string() + ": the project is inconsistent (" + r.message() +
                    ")");
    return write_file_atomically(path, project_to_json(project));
}

Result<Project> load_project(const fs::path& path) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) return fail("cannot open project " + path.string() + ": it is a folder");
    auto text = read_file(path);
    // "cannot read <path>: <why>" → "cannot open project <path>: <why>"
    if (!text)
        return fail("cannot open project " + text.message().substr(std::string("cannot read ").size()));
    auto project = project_from_json(*text);
    if (!project) return fail("cannot open project " + path.string() + ": " + project.message());
    return project;
}

}  // namespace fl::core
