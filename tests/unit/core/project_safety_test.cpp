// Safety of the work in the core: unfinished generations stored in the project file, and relinking media
// that moved.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "core_test_util.h"
#include "frameloom/core/atomic_file.h"
#include "frameloom/core/media_paths.h"
#include "frameloom/core/project_file.h"

namespace fl::core {
namespace {

namespace fs = std::filesystem;
using test::read_bytes;
using test::sample_project;
using test::TempDir;
using test::write_bytes;

QueuedGeneration sample_queued(const Project& p) {
    QueuedGeneration q;
    q.shot_id = p.shots.front().id;
    q.title = "Variation 2/3 of Opening";
    q.params = p.shots.front().params;
    q.params.seed = 9007199254740991ULL;  // 2^53 - 1
    q.to_timeline = false;
    q.correct_extension = false;
    return q;
}

TEST(QueuedGenerations, RoundTripThroughTheFile) {
    Project p = sample_project();
    p.queued_generations.push_back(sample_queued(p));
    QueuedGeneration plain;
    plain.shot_id = p.shots.back().id;
    plain.title = "Generate";
    plain.params = p.shots.back().params;
    p.queued_generations.push_back(plain);

    const std::string text = project_to_json(p);
    EXPECT_NE(text.find("\"queued_generations\""), std::string::npos);
    auto back = project_from_json(text);
    ASSERT_TRUE(back.ok()) << back.message();
    ASSERT_EQ(back->queued_generations.size(), 2u);
    EXPECT_EQ(back->queued_generations[0], p.queued_generations[0]);
    EXPECT_EQ(back->queued_generations[1], p.queued_generations[1]);
    EXPECT_FALSE(back->queued_generations[0].to_timeline);
    EXPECT_TRUE(back->queued_generations[1].to_timeline);
    EXPECT_EQ(*back, p);
}

TEST(QueuedGenerations, AbsentFieldMeansNoneAndIsNotWritten) {
    const Project p = sample_project();
    const std::string text = project_to_json(p);
    // Files without unfinished jobs stay byte-for-byte what they were before the field existed.
    EXPECT_EQ(text.find("queued_generations"), std::string::npos);
    auto back = project_from_json(text);
    ASSERT_TRUE(back.ok()) << back.message();
    EXPECT_TRUE(back->queued_generations.empty());
}

TEST(QueuedGenerations, BadEntriesNameTheFieldPath) {
    Project p = sample_project();
    p.queued_generations.push_back(sample_queued(p));
    const std::string good = project_to_json(p);

    const auto error_for = [&](const std::string& from, const std::string& to) {
        std::string text = good;
        const auto at = text.rfind(from);  // the queued entries are written last
        EXPECT_NE(at, std::string::npos) << from;
        text.replace(at, from.size(), to);
        auto r = project_from_json(text);
        EXPECT_FALSE(r.ok());
        return r.ok() ? std::string() : r.message();
    };
    EXPECT_EQ(error_for("\"to_timeline\": false", "\"to_timeline\": 3"),
              "queued_generations[0].to_timeline: expected true or false, found 3");
    EXPECT_EQ(error_for("\"queued_generations\": [", "\"queued_generations\": 5, \"x\": ["),
              "queued_generations: expected a list of generations, found 5");
    const std::string shot_field = "\"shot_id\": \"" + p.shots.front().id + "\"";
    EXPECT_EQ(error_for(shot_field, "\"shot_id\": \"\""),
              "queued_generations[0].shot_id: expected a non-empty text, found an empty one");
    std::string text = good;  // the queued entries are written last: the last "params" is theirs
    const auto at = text.rfind("\"params\": {");
    ASSERT_NE(at, std::string::npos);
    text.replace(at, 8, "\"paramz\"");
    auto r = project_from_json(text);
    ASSERT_FALSE(r.ok());
    const std::string err = r.message();
    EXPECT_EQ(err, "queued_generations[0].params: missing (this field is required)");
}

/// A project based at `base` with one take (file, sha known), a clip of it, a music clip and a keyframe.
struct MovedProject {
    Project project;
    std::string take_sha;
};

MovedProject moved_project(const fs::path& base) {
    fs::create_directories(base / "film.media");
    write_bytes(base / "film.media" / "take.mp4", "take bytes");
    write_bytes(base / "film.media" / "music.wav", "music bytes");
    write_bytes(base / "film.media" / "key.png", "key bytes");
    MovedProject out;
    out.take_sha = *sha256_file(base / "film.media" / "take.mp4");
    Project p = Project::make_new("Moved");
    Shot shot;
    shot.id = p.fresh_id("shot");
    shot.params.conditioning.first_frame = "film.media/key.png";
    Take take;
    take.id = p.fresh_id("take");
    take.file = "film.media/take.mp4";
    take.sha256 = out.take_sha;
    take.params = shot.params;
    shot.takes.push_back(take);
    shot.selected_take = take.id;
    p.shots.push_back(shot);
    Clip clip;
    clip.id = p.fresh_id("clip");
    clip.source = ClipSource{shot.id, take.id, take.file};
    clip.in = 0;
    clip.out = 8;
    p.sequence.tracks.front().clips.push_back(clip);
    Track music;
    music.id = p.fresh_id("track");
    music.kind = TrackKind::Audio;
    Clip song;
    song.id = p.fresh_id("clip");
    song.source.file = "film.media/music.wav";
    song.in = 0;
    song.out = 8;
    music.clips.push_back(song);
    p.sequence.tracks.push_back(music);
    EXPECT_TRUE(p.check_invariants().ok());
    out.project = p;
    return out;
}

TEST(Relink, MissingMediaListsEveryMissingReferenceOnce) {
    TempDir dir;
    MovedProject m = moved_project(dir.path());
    EXPECT_TRUE(missing_media(m.project, dir.path()).empty());
    fs::rename(dir / "film.media", dir / "elsewhere");
    const auto missing = missing_media(m.project, dir.path());
    // The take and its clip share one reference: listed once.
    EXPECT_EQ(missing, (std::vector<std::string>{"film.media/key.png", "film.media/take.mp4",
                                                 "film.media/music.wav"}));
}

TEST(Relink, MovedFolderRelinksTakesClipsAndKeyframesByName) {
    TempDir dir;
    MovedProject m = moved_project(dir.path());
    fs::create_directories(dir / "archive");
    fs::rename(dir / "film.media", dir / "archive" / "moved");  // found in a subfolder of the chosen one

    Project p = m.project;
    RelinkReport report = relink_missing_media(p, dir.path(), dir / "archive");
    EXPECT_TRUE(report.missing.empty());
    EXPECT_EQ(report.relinked,
              5);  // take, its clip, the music clip, the keyframe of the shot and of the take
    EXPECT_EQ(p.shots[0].takes[0].file, "archive/moved/take.mp4");  // inside the project folder: relative
    EXPECT_EQ(p.sequence.tracks[0].clips[0].source.file, "archive/moved/take.mp4");
    EXPECT_EQ(p.sequence.tracks[1].clips[0].source.file, "archive/moved/music.wav");
    EXPECT_EQ(p.shots[0].params.conditioning.first_frame, "archive/moved/key.png");
    EXPECT_TRUE(missing_media(p, dir.path()).empty());
    EXPECT_TRUE(p.check_invariants().ok());
}

TEST(Relink, TakeWithAnotherHashStaysMissingAndSoDoesItsClip) {
    TempDir dir;
    TempDir other("fl-relink-other");
    MovedProject m = moved_project(dir.path());
    fs::rename(dir / "film.media", other / "media");
    write_bytes(other / "media" / "take.mp4", "different bytes, same name");

    Project p = m.project;
    RelinkReport report = relink_missing_media(p, dir.path(), other.path());
    EXPECT_EQ(report.missing, (std::vector<std::string>{"film.media/take.mp4"}));
    EXPECT_EQ(report.relinked, 3);  // music and the two keyframes, by name (no hash known for them)
    EXPECT_EQ(p.shots[0].takes[0].file, "film.media/take.mp4");
    EXPECT_EQ(p.sequence.tracks[0].clips[0].source.file, "film.media/take.mp4");
    // Outside the project folder: absolute.
    EXPECT_EQ(p.sequence.tracks[1].clips[0].source.file, (other / "media" / "music.wav").string());

    // With the right content under the same name in another subfolder, the hash picks that one.
    fs::create_directories(other / "z");
    write_bytes(other / "z" / "take.mp4", "take bytes");
    RelinkReport again = relink_missing_media(p, dir.path(), other.path());
    EXPECT_TRUE(again.missing.empty());
    EXPECT_EQ(p.shots[0].takes[0].file, (other / "z" / "take.mp4").string());
    EXPECT_EQ(p.sequence.tracks[0].clips[0].source.file, (other / "z" / "take.mp4").string());
}

TEST(Relink, PresentReferencesAreNeverTouched) {
    TempDir dir;
    MovedProject m = moved_project(dir.path());
    fs::create_directories(dir / "copy");
    fs::copy_file(dir / "film.media" / "take.mp4", dir / "copy" / "take.mp4");
    Project p = m.project;
    RelinkReport report = relink_missing_media(p, dir.path(), dir / "copy");
    EXPECT_EQ(report.relinked, 0);
    EXPECT_TRUE(report.missing.empty());
    EXPECT_EQ(p, m.project);
}

TEST(Relink, MediaReferencesIncludeQueuedConditioning) {
    Project p = sample_project();
    QueuedGeneration q = sample_queued(p);
    q.params.conditioning = Conditioning{};
    q.params.conditioning.first_frame = "/abs/queued-first.png";
    p.queued_generations.push_back(q);
    const auto refs = media_references(p);
    EXPECT_NE(std::find(refs.begin(), refs.end(), "/abs/queued-first.png"), refs.end());
    EXPECT_NE(std::find(refs.begin(), refs.end(), "takes/a2.mp4"), refs.end());
    EXPECT_NE(std::find(refs.begin(), refs.end(), "refs/hero.png"), refs.end());
}

}  // namespace
}  // namespace fl::core
