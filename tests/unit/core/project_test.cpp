#include "frameloom/core/project.h"

#include <gtest/gtest.h>

#include "unit/core/core_test_util.h"

namespace fl::core {
namespace {

using test::sample_project;

Clip make_clip(const std::string& id, int64_t position, int64_t duration) {
    Clip c;
    c.id = id;
    c.source.file = "x.mp4";
    c.in = 0;
    c.out = duration;
    c.position = position;
    return c;
}

void expect_broken(const Project& p, const std::string& needle) {
    const auto r = p.check_invariants();
    ASSERT_FALSE(r.ok()) << "expected a broken invariant mentioning " << needle;
    EXPECT_NE(r.message().find(needle), std::string::npos) << r.message();
}

TEST(ProjectTest, MakeNewHasOneVideoTrackAndIsValid) {
    const Project p = Project::make_new("Film");
    EXPECT_EQ(p.name, "Film");
    ASSERT_EQ(p.sequence.tracks.size(), 1u);
    EXPECT_EQ(p.sequence.tracks[0].kind, TrackKind::Video);
    EXPECT_EQ(p.sequence.tracks[0].name, "V1");
    EXPECT_EQ(p.sequence.first_video_track(), &p.sequence.tracks[0]);
    EXPECT_TRUE(p.check_invariants().ok()) << p.check_invariants().message();
}

TEST(ProjectTest, FreshIdsAreUniqueAndAdvance) {
    Project p = Project::make_new();
    const int64_t before = p.next_id;
    const std::string a = p.fresh_id("shot");
    const std::string b = p.fresh_id("clip");
    EXPECT_EQ(a, "shot-" + std::to_string(before));
    EXPECT_EQ(b, "clip-" + std::to_string(before + 1));
    EXPECT_EQ(p.next_id, before + 2);
}

TEST(ProjectTest, SampleProjectIsValidAndLookupsWork) {
    Project p = sample_project();
    ASSERT_TRUE(p.check_invariants().ok()) << p.check_invariants().message();
    EXPECT_EQ(p.shot_index("shot-5"), 1);
    EXPECT_EQ(p.find_shot("shot-5"), &p.shots[1]);
    EXPECT_EQ(p.find_shot("nope"), nullptr);
    EXPECT_EQ(p.shot_index("nope"), -1);
    EXPECT_EQ(p.sequence.find_track("track-8")->kind, TrackKind::Audio);
    EXPECT_EQ(p.sequence.find_track("nope"), nullptr);
    EXPECT_EQ(p.sequence.duration(), 100);  // the audio clip ends last
}

TEST(TrackTest, IndexFreeAndEnd) {
    Track t;
    t.id = "t";
    t.clips = {make_clip("a", 0, 10), make_clip("b", 20, 5)};
    EXPECT_EQ(t.index_of("b"), 1);
    EXPECT_EQ(t.index_of("z"), -1);
    EXPECT_EQ(t.end(), 25);
    EXPECT_TRUE(t.is_free(10, 10));      // exactly the gap
    EXPECT_FALSE(t.is_free(9, 2));       // touches a
    EXPECT_FALSE(t.is_free(15, 6));      // touches b
    EXPECT_TRUE(t.is_free(25, 100));     // after everything
    EXPECT_TRUE(t.is_free(18, 5, "b"));  // b itself is ignored
    EXPECT_TRUE(t.check_invariants().ok());
    Track empty;
    EXPECT_EQ(empty.end(), 0);
}

TEST(TrackTest, InvariantsCatchDisorderOverlapAndDuplicates) {
    Track t;
    t.id = "t";
    t.clips = {make_clip("a", 20, 5), make_clip("b", 0, 10)};
    EXPECT_NE(t.check_invariants().message().find("not sorted"), std::string::npos);
    t.clips = {make_clip("a", 0, 10), make_clip("b", 9, 10)};
    EXPECT_NE(t.check_invariants().message().find("overlaps"), std::string::npos);
    t.clips = {make_clip("a", 0, 10), make_clip("a", 10, 10)};
    EXPECT_NE(t.check_invariants().message().find("two clips with id a"), std::string::npos);
}

TEST(ClipTest, Invariants) {
    Clip c = make_clip("c", 0, 10);
    EXPECT_TRUE(c.check_invariants().ok());
    c.out = c.in;
    EXPECT_NE(c.check_invariants().message().find("out must be greater than in"), std::string::npos);
    c = make_clip("c", -1, 10);
    EXPECT_FALSE(c.check_invariants().ok());
    c = make_clip("c", 0, 10);
    c.source.file.clear();
    EXPECT_NE(c.check_invariants().message().find("no source"), std::string::npos);
    c.source.shot_id = "shot-1";  // a shot without a take
    EXPECT_FALSE(c.check_invariants().ok());
}

TEST(ProjectTest, InvariantsCatchCrossReferenceProblems) {
    {
        Project p = sample_project();
        p.shots[1].id = p.shots[0].id;
        expect_broken(p, "used twice");
    }
    {
        Project p = sample_project();
        p.sequence.tracks[1].clips[0].id = "shot-2";  // ids share one space
        expect_broken(p, "used twice");
    }
    {
        Project p = sample_project();
        p.sequence.tracks[0].clips[0].source.take_id = "take-99";
        expect_broken(p, "take-99");
    }
    {
        Project p = sample_project();
        p.shots[0].selected_take = "take-99";
        expect_broken(p, "take-99");
    }
    {
        Project p = sample_project();
        p.next_id = 5;  // clip-9 exists, so a fresh id would collide
        expect_broken(p, "next_id");
    }
    {
        Project p = sample_project();
        p.shots[0].takes[0].params.steps = 0;
        expect_broken(p, "steps");
    }
    {
        Project p = sample_project();
        p.sequence.fps = Rational{0, 1};
        expect_broken(p, "frame rate");
    }
}

TEST(ProjectTest, ClipOfRemovedShotNeedsItsFile) {
    Project p = sample_project();
    p.shots.erase(p.shots.begin());  // the shot of clip-6 is gone
    EXPECT_TRUE(p.check_invariants().ok()) << p.check_invariants().message();
    p.sequence.tracks[0].clips[0].source.file.clear();
    expect_broken(p, "no file");
}

}  // namespace
}  // namespace fl::core
