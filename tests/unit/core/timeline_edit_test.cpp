// Timeline edits of issue 5 (trim, split, ripple delete, speed, fades, gain, crossfades, audio clips) and the
// clip properties behind them: do → undo → redo for each, invariants after every step, failures change nothing.
#include <gtest/gtest.h>

#include "frameloom/core/edit.h"
#include "frameloom/core/project_file.h"
#include "unit/core/edit_test_util.h"

namespace fl::core {
namespace {

using test::expect_fails;

/// do → check → undo → check (== before) → redo → check (== after the do); also through the project file.
void exercise(Project& p, std::unique_ptr<Command> cmd) {
    test::exercise(p, std::move(cmd));
    auto reloaded = project_from_json(project_to_json(p));
    ASSERT_TRUE(reloaded.ok()) << reloaded.message();
    EXPECT_EQ(*reloaded, p) << "the edited timeline does not survive the project file";
}

/// V1: [clip-2 0..10)[clip-3 10..20)   [clip-4 30..40)    A1: [clip-6 0..40) music.wav
Project timeline() {
    Project p = Project::make_new("t");
    const auto add = [&](size_t track, const std::string& id, int64_t in, int64_t out, int64_t position) {
        Clip c;
        c.id = id;
        c.source.file = "media/" + id + ".mp4";
        c.in = in, c.out = out, c.position = position;
        p.sequence.tracks[track].clips.push_back(c);
    };
    add(0, "clip-2", 0, 10, 0);
    add(0, "clip-3", 5, 15, 10);
    add(0, "clip-4", 0, 10, 30);
    Track a1;
    a1.id = "track-5";
    a1.name = "A1";
    a1.kind = TrackKind::Audio;
    p.sequence.tracks.push_back(a1);
    add(1, "clip-6", 0, 40, 0);
    p.sequence.tracks[1].clips[0].source.file = "music.wav";
    p.next_id = 7;
    EXPECT_VALID(p);
    return p;
}

const Clip& clip(const Project& p, size_t track, size_t i) { return p.sequence.tracks[track].clips[i]; }

TEST(ClipTiming, SpeedSetsDurationAndSourceFrames) {
    Clip c;
    c.in = 4, c.out = 14;  // 10 source frames
    c.speed = Rational{2, 1};
    EXPECT_EQ(c.duration(), 5);
    EXPECT_EQ(c.source_frame_at(0), 4);
    EXPECT_EQ(c.source_frame_at(4), 12);
    c.speed = Rational{1, 2};
    EXPECT_EQ(c.duration(), 20);
    EXPECT_EQ(c.source_frame_at(3), 5);  // nearest earlier source frame
    c.speed = Rational{3, 1};
    EXPECT_EQ(c.duration(), 4);  // ceil(10 / 3): the last frame shows source frame 13
    EXPECT_EQ(c.source_frame_at(3), 13);
    EXPECT_EQ(*parse_speed("0.25"), (Rational{1, 4}));
    EXPECT_EQ(*parse_speed("3/2"), (Rational{3, 2}));
    EXPECT_FALSE(parse_speed("0").ok());
    EXPECT_FALSE(parse_speed("200").ok());
    EXPECT_FALSE(parse_speed("-1").ok());
    EXPECT_FALSE(parse_speed("fast").ok());
}

TEST(ClipTiming, InvariantsCoverFadesGainAndCrossfadeOverlap) {
    Project p = timeline();
    Track& v1 = p.sequence.tracks[0];
    v1.clips[1].fade_in = 6, v1.clips[1].fade_out = 5;  // 11 > 10 frames
    EXPECT_FALSE(p.check_invariants().ok());
    v1.clips[1].fade_out = 4;
    EXPECT_VALID(p);
    v1.clips[1].gain_db = 40;
    EXPECT_FALSE(p.check_invariants().ok());
    v1.clips[1].gain_db = 0;
    v1.clips[1].position = 7;  // overlaps clip-2 by 3 without a crossfade
    EXPECT_FALSE(p.check_invariants().ok());
    v1.clips[1].transition_in = 3;  // now a live crossfade
    EXPECT_VALID(p);
    EXPECT_EQ(v1.overlap_before(1), 3);
    v1.clips[1].transition_in = 4;  // the overlap must be exactly the crossfade
    EXPECT_FALSE(p.check_invariants().ok());
}

TEST(TimelineFile, OldFilesLoadWithDefaultsAndBadFieldsNameTheirPath) {
    Project p = timeline();
    const std::string plain = project_to_json(p);
    EXPECT_EQ(plain.find("speed"), std::string::npos);  // defaults are not written: old readers see old files
    auto loaded = project_from_json(plain);
    ASSERT_TRUE(loaded.ok()) << loaded.message();
    EXPECT_EQ(loaded->sequence.tracks[0].clips[0].speed, (Rational{1, 1}));
    EXPECT_EQ(loaded->sequence.tracks[0].clips[0].fade_in, 0);

    p.sequence.tracks[0].clips[1].speed = Rational{3, 2};  // 7 frames
    p.sequence.tracks[0].clips[1].fade_out = 2;
    p.sequence.tracks[1].clips[0].gain_db = -4.5;
    auto round = project_from_json(project_to_json(p));
    ASSERT_TRUE(round.ok()) << round.message();
    EXPECT_EQ(*round, p);

    std::string bad = project_to_json(p);
    bad.replace(bad.find("\"3/2\""), 5, "true");
    auto r = project_from_json(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.message().find("sequence.tracks[0].clips[1].speed"), std::string::npos) << r.message();
    bad = project_to_json(p);
    bad.replace(bad.find("-4.5"), 4, "\"loud\"");
    r = project_from_json(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.message().find("sequence.tracks[1].clips[0].gain_db"), std::string::npos) << r.message();
}

TEST(TimelineEdit, TrimInKeepsTheEndAndTrimOutKeepsThePosition) {
    Project p = timeline();
    exercise(p, make_trim_in("track-1", "clip-3", 8));
    EXPECT_EQ(clip(p, 0, 1).in, 8);
    EXPECT_EQ(clip(p, 0, 1).position, 13);
    EXPECT_EQ(clip(p, 0, 1).end(), 20);
    exercise(p, make_trim_out("track-1", "clip-3", 12));
    EXPECT_EQ(clip(p, 0, 1).position, 13);
    EXPECT_EQ(clip(p, 0, 1).end(), 17);
    expect_fails(p, make_trim_in("track-1", "clip-3", 12), "in point");
    expect_fails(p, make_trim_out("track-1", "clip-2", 14), "overlaps");  // would run into clip-3
    expect_fails(p, make_trim_in("track-1", "clip-3", 0), "overlaps");    // would reach back into clip-2
    expect_fails(p, make_trim_out("track-1", "nope", 3), "no clip nope");
}

TEST(TimelineEdit, TrimDragsMergeIntoOneStep) {
    Project p = timeline();
    const Project before = p;
    UndoStack stack;
    for (int64_t out = 14; out >= 11; --out) ASSERT_TRUE(stack.push(p, make_trim_out("track-1", "clip-3", out)).ok());
    EXPECT_EQ(stack.size(), 1u);
    EXPECT_EQ(clip(p, 0, 1).out, 11);
    EXPECT_VALID(p);
    stack.undo(p);
    EXPECT_EQ(p, before);
    ASSERT_TRUE(stack.redo(p).ok());
    EXPECT_EQ(clip(p, 0, 1).out, 11);
}

TEST(TimelineEdit, SplitMakesTwoClipsThatPlayTheSameFrames) {
    Project p = timeline();
    p.sequence.tracks[0].clips[1].fade_in = 2;
    p.sequence.tracks[0].clips[1].fade_out = 3;
    const Clip whole = clip(p, 0, 1);
    exercise(p, make_split_clip("track-1", "clip-3", 14));
    ASSERT_EQ(p.sequence.tracks[0].clips.size(), 4u);
    const Clip& left = clip(p, 0, 1);
    const Clip& right = clip(p, 0, 2);
    EXPECT_EQ(left.id, "clip-3");
    EXPECT_EQ(right.id, "clip-7");
    EXPECT_EQ(left.end(), 14);
    EXPECT_EQ(right.position, 14);
    EXPECT_EQ(right.end(), whole.end());
    for (int64_t f = whole.position; f < whole.end(); ++f) {
        const Clip& part = f < 14 ? left : right;
        EXPECT_EQ(part.source_frame_at(f - part.position), whole.source_frame_at(f - whole.position)) << f;
    }
    EXPECT_EQ(left.fade_in, 2);
    EXPECT_EQ(left.fade_out, 0);
    EXPECT_EQ(right.fade_in, 0);
    EXPECT_EQ(right.fade_out, 3);
    expect_fails(p, make_split_clip("track-1", "clip-3", 10), "not inside");
}

TEST(TimelineEdit, SplitAtHalfSpeedOnlyWhereASourceFrameBegins) {
    Project p = timeline();
    p.sequence.tracks[0].clips[2].speed = Rational{1, 2};  // clip-4: 30..50
    EXPECT_VALID(p);
    expect_fails(p, make_split_clip("track-1", "clip-4", 31), "source frame");
    exercise(p, make_split_clip("track-1", "clip-4", 34));
    EXPECT_EQ(clip(p, 0, 2).out, 2);
    EXPECT_EQ(clip(p, 0, 3).in, 2);
    EXPECT_EQ(clip(p, 0, 3).end(), 50);
}

TEST(TimelineEdit, RippleDeleteClosesTheGapOnItsTrackOnly) {
    Project p = timeline();
    exercise(p, make_ripple_delete("track-1", "clip-3"));
    ASSERT_EQ(p.sequence.tracks[0].clips.size(), 2u);
    EXPECT_EQ(clip(p, 0, 1).id, "clip-4");
    EXPECT_EQ(clip(p, 0, 1).position, 20);  // moved left by clip-3's 10 frames; the older gap stays
    EXPECT_EQ(clip(p, 1, 0).position, 0);   // other tracks untouched
}

TEST(TimelineEdit, RippleDeleteAcrossCrossfadesLeavesACut) {
    Project p = timeline();
    UndoStack stack;
    ASSERT_TRUE(stack.push(p, make_set_transition("track-1", "clip-3", 4)).ok());  // clip-3 at 6..16
    ASSERT_TRUE(stack.push(p, make_trim_out("track-1", "clip-3", 15)).ok());
    ASSERT_TRUE(stack.push(p, make_move_clip("track-1", "clip-4", "track-1", 16)).ok());
    ASSERT_TRUE(stack.push(p, make_set_transition("track-1", "clip-4", 3)).ok());  // clip-4 at 13..23
    EXPECT_VALID(p);
    exercise(p, make_ripple_delete("track-1", "clip-3"));
    ASSERT_EQ(p.sequence.tracks[0].clips.size(), 2u);
    EXPECT_EQ(clip(p, 0, 1).position, 10);  // meets clip-2 at a cut
    EXPECT_EQ(clip(p, 0, 1).transition_in, 0);
    EXPECT_EQ(clip(p, 0, 1).duration(), 10);
}

TEST(TimelineEdit, SpeedChangesLengthAndClampsFades) {
    Project p = timeline();
    p.sequence.tracks[0].clips[2].fade_in = 4;
    p.sequence.tracks[0].clips[2].fade_out = 6;
    exercise(p, make_set_speed("track-1", "clip-4", Rational{2, 1}));
    EXPECT_EQ(clip(p, 0, 2).duration(), 5);
    EXPECT_EQ(clip(p, 0, 2).position, 30);
    EXPECT_LE(clip(p, 0, 2).fade_in + clip(p, 0, 2).fade_out, 5);
    expect_fails(p, make_set_speed("track-1", "clip-2", Rational{1, 2}), "overlaps");  // 20 frames run into clip-3
    expect_fails(p, make_set_speed("track-1", "clip-2", Rational{1000, 1}), "speed");
}

TEST(TimelineEdit, FadesAndFadeDragsMerge) {
    Project p = timeline();
    exercise(p, make_set_fades("track-1", "clip-2", 3, 2));
    EXPECT_EQ(clip(p, 0, 0).fade_in, 3);
    EXPECT_EQ(clip(p, 0, 0).fade_out, 2);
    expect_fails(p, make_set_fades("track-1", "clip-2", 8, 8), "do not fit");
    UndoStack stack;
    const Project before = p;
    for (int f = 4; f <= 7; ++f) ASSERT_TRUE(stack.push(p, make_set_fades("track-1", "clip-2", f, 2)).ok());
    EXPECT_EQ(stack.size(), 1u);
    stack.undo(p);
    EXPECT_EQ(p, before);
}

TEST(TimelineEdit, GainOnlyOnAudioTracks) {
    Project p = timeline();
    exercise(p, make_set_gain("track-5", "clip-6", -6.0));
    EXPECT_DOUBLE_EQ(clip(p, 1, 0).gain_db, -6.0);
    expect_fails(p, make_set_gain("track-1", "clip-2", -6.0), "video track");
    expect_fails(p, make_set_gain("track-5", "clip-6", 50.0), "gain");
    UndoStack stack;
    for (double g = -1; g >= -5; g -= 1) ASSERT_TRUE(stack.push(p, make_set_gain("track-5", "clip-6", g)).ok());
    EXPECT_EQ(stack.size(), 1u);
}

TEST(TimelineEdit, CrossfadePullsTheRestOfTheTrackLeftAndClearingPutsItBack) {
    Project p = timeline();
    const Project before = p;
    exercise(p, make_set_transition("track-1", "clip-3", 4));
    EXPECT_EQ(clip(p, 0, 1).position, 6);
    EXPECT_EQ(clip(p, 0, 1).transition_in, 4);
    EXPECT_EQ(p.sequence.tracks[0].overlap_before(1), 4);
    EXPECT_EQ(clip(p, 0, 2).position, 26);  // later clips keep their distance
    exercise(p, make_set_transition("track-1", "clip-3", 2));  // shorter: moves back right by 2
    EXPECT_EQ(clip(p, 0, 1).position, 8);
    exercise(p, make_clear_transition("track-1", "clip-3"));
    EXPECT_EQ(p, before);
    expect_fails(p, make_set_transition("track-1", "clip-2", 2), "first clip");
    expect_fails(p, make_set_transition("track-1", "clip-4", 2), "gap of 10");
    expect_fails(p, make_set_transition("track-1", "clip-3", 11), "longer than clip-2");
}

TEST(TimelineEdit, MovingACrossfadedClipAwayMakesACut) {
    Project p = timeline();
    UndoStack stack;
    ASSERT_TRUE(stack.push(p, make_set_transition("track-1", "clip-3", 4)).ok());
    exercise(p, make_move_clip("track-1", "clip-3", "track-1", 16));  // clip-4 now starts at 26
    EXPECT_EQ(p.sequence.tracks[0].overlap_before(1), 0);  // dormant: kept, but a plain cut
    EXPECT_EQ(clip(p, 0, 1).transition_in, 4);
}

TEST(TimelineEdit, AddAudioClipFromAFile) {
    Project p = timeline();
    exercise(p, make_add_audio_clip("track-5", "media/voice.m4a", 40, 16, -3.0));
    const Clip& c = clip(p, 1, 1);
    EXPECT_EQ(c.source.file, "media/voice.m4a");
    EXPECT_EQ(c.name, "voice");
    EXPECT_EQ(c.position, 40);
    EXPECT_EQ(c.duration(), 16);
    EXPECT_DOUBLE_EQ(c.gain_db, -3.0);
    expect_fails(p, make_add_audio_clip("track-1", "media/voice.m4a", 50, 16), "video track");
    expect_fails(p, make_add_audio_clip("track-5", "media/voice.m4a", 10, 16), "already taken");
    expect_fails(p, make_add_audio_clip("track-5", "", 60, 16), "no file");
    expect_fails(p, make_add_audio_clip("track-5", "a.wav", 60, 0), "no frames");
}

}  // namespace
}  // namespace fl::core
