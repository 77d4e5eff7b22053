#pragma once
/// Helpers shared by the core unit tests: a temporary folder and a project with every field set.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "frameloom/core/project.h"
#include "support/temp_dir.h"

namespace fl::core::test {

using TempDir = fl::test::TempDir;

inline std::string read_bytes(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

inline void write_bytes(const std::filesystem::path& p, const std::string& bytes) {
    std::ofstream out(p, std::ios::binary);
    out << bytes;
}

/// A Take with every field set.
inline Take sample_take(const std::string& id, const std::string& file) {
    Take t;
    t.id = id;
    t.file = file;
    t.sha256 = std::string(64, 'a');
    t.created = "2026-11-25T01:02:03Z";
    t.generation_seconds = 12.375;
    t.params.prompt = "a red circle";
    t.params.seed = 18446744073709551615ULL;  // largest seed: must survive JSON
    t.params.steps = 30;
    return t;
}

/// A project with every field set: two shots (one with conditioning and two takes), a video track
/// with a clip of a take and a clip of a plain file, and an audio track.
inline Project sample_project() {
    Project p = Project::make_new("Sample \"quoted\" é");
    p.sequence.name = "Main";
    p.sequence.fps = Rational{30000, 1001};
    p.sequence.width = 832;
    p.sequence.height = 480;

    Shot a;
    a.id = p.fresh_id("shot");
    a.name = "Opening";
    a.params.prompt = "a lighthouse at dawn";
    a.params.negative_prompt = "blurry";
    a.params.model = "wan2.1-t2v-1.3b";
    a.params.seed = 42;
    a.params.steps = 25;
    a.params.guidance = 6.5;
    a.params.shift = 8.0;
    a.params.sampler = "unipc";
    a.params.width = 832;
    a.params.height = 480;
    a.params.frames = 81;
    a.params.fps = Rational{30000, 1001};
    a.params.conditioning.first_frame = "refs/first.png";
    a.params.conditioning.last_frame = "refs/last.png";
    a.params.conditioning.extend = "clips/prev.mp4";
    a.params.conditioning.keep_source = true;
    a.params.conditioning.extend_frames = 36;
    a.params.conditioning.references = {"refs/hero.png", "refs/dog.png"};
    a.takes.push_back(sample_take(p.fresh_id("take"), "takes/a1.mp4"));
    a.takes.push_back(sample_take(p.fresh_id("take"), "takes/a2.mp4"));
    a.takes[1].params = a.params;
    a.takes[1].params.guidance = 0.1 + 0.2;  // a double with no short decimal form
    a.selected_take = a.takes[1].id;

    Shot b;
    b.id = p.fresh_id("shot");
    b.name = "Closing";
    b.params.prompt = "the lighthouse at night";
    b.params.conditioning.video = "clips/plate.mp4";
    b.params.conditioning.mask = "refs/sky-mask.png";

    Clip c1;
    c1.id = p.fresh_id("clip");
    c1.name = "Opening take";
    c1.source = ClipSource{a.id, a.takes[0].id, a.takes[0].file};
    c1.in = 2;
    c1.out = 50;
    c1.position = 0;
    Clip c2;
    c2.id = p.fresh_id("clip");
    c2.name = "Stock";
    c2.source.file = "media/stock.mp4";
    c2.in = 0;
    c2.out = 24;
    c2.position = 60;
    p.sequence.tracks[0].clips = {c1, c2};

    Track audio;
    audio.id = p.fresh_id("track");
    audio.name = "A1";
    audio.kind = TrackKind::Audio;
    Clip music;
    music.id = p.fresh_id("clip");
    music.name = "Music";
    music.source.file = "media/music.wav";
    music.out = 100;
    audio.clips.push_back(music);
    p.sequence.tracks.push_back(audio);

    p.shots = {a, b};
    return p;
}

}  // namespace fl::core::test
