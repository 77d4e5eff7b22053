#include "frameloom/core/edit.h"

#include <gtest/gtest.h>

#include "frameloom/core/project_file.h"
#include "unit/core/core_test_util.h"
#include "unit/core/edit_test_util.h"

namespace fl::core {
namespace {

using test::exercise;
using test::expect_fails;
using test::sample_project;
using test::sample_take;

Clip file_clip(const std::string& id, int64_t position, int64_t duration) {
    Clip c;
    c.id = id;
    c.source.file = "media/x.mp4";
    c.out = duration;
    c.position = position;
    return c;
}

// ---- Shots ----

TEST(EditShots, AddShotAtEndAndAtIndex) {
    Project p = sample_project();
    Shot s;
    s.id = "shot-100";
    s.name = "Middle";
    EXPECT_EQ(exercise(p, make_add_shot(s, 1)), "Add shot");
    ASSERT_EQ(p.shots.size(), 3u);
    EXPECT_EQ(p.shots[1].id, "shot-100");
    EXPECT_EQ(p.next_id, 101);  // caller-chosen ids never collide with fresh ones

    Shot fresh;  // no id: the command picks one
    const int64_t next = p.next_id;
    exercise(p, make_add_shot(fresh));
    EXPECT_EQ(p.shots.back().id, "shot-" + std::to_string(next));
}

TEST(EditShots, AddShotFailuresChangeNothing) {
    Project p = sample_project();
    Shot dup;
    dup.id = "clip-6";  // ids share one space
    expect_fails(p, make_add_shot(dup), "already used");
    Shot s;
    s.id = "shot-50";
    expect_fails(p, make_add_shot(s, 7), "position 7");
    s.params.steps = 0;
    expect_fails(p, make_add_shot(s), "steps");
    s.params.steps = 10;
    s.takes = {sample_take("take-3", "a.mp4")};  // take id already in shot-2
    expect_fails(p, make_add_shot(s), "take-3");
    Shot no_id;
    no_id.params.frames = 0;  // fails after an id was drawn: next_id must be restored too
    expect_fails(p, make_add_shot(no_id), "frames");
}

TEST(EditShots, RemoveShotKeepsItsClipsOnTheTimeline) {
    Project p = sample_project();
    exercise(p, make_remove_shot("shot-2"));
    EXPECT_EQ(p.find_shot("shot-2"), nullptr);
    const Clip& orphan = p.sequence.tracks[0].clips[0];
    EXPECT_EQ(orphan.source.shot_id, "shot-2");
    EXPECT_EQ(orphan.source.file, "takes/a1.mp4");
    // A removed shot's id may not be reused while clips still name it.
    Shot again;
    again.id = "shot-2";
    expect_fails(p, make_add_shot(again), "already used");
}

TEST(EditShots, RemoveShotFailures) {
    Project p = sample_project();
    expect_fails(p, make_remove_shot("shot-404"), "no shot shot-404");
    p.sequence.tracks[0].clips[0].source.file.clear();  // valid while the shot exists
    EXPECT_VALID(p);
    expect_fails(p, make_remove_shot("shot-2"), "has no file");
}

TEST(EditShots, SetParamsAndRename) {
    Project p = sample_project();
    GenerationParams params = p.shots[1].params;
    params.steps = 7;
    params.conditioning.references = {"x.png"};
    EXPECT_EQ(exercise(p, make_set_shot_params("shot-5", params)), "Change shot settings");
    EXPECT_EQ(p.shots[1].params, params);
    exercise(p, make_rename_shot("shot-5", "Finale"));
    EXPECT_EQ(p.shots[1].name, "Finale");
    params.width = -16;
    expect_fails(p, make_set_shot_params("shot-5", params), "size");
    expect_fails(p, make_set_shot_params("nope", GenerationParams{}), "no shot nope");
    expect_fails(p, make_rename_shot("nope", "x"), "no shot nope");
}

TEST(EditShots, TypingMergesParamEditsOfOneShot) {
    Project p = sample_project();
    const Project before = p;
    UndoStack stack;
    GenerationParams params = p.shots[1].params;
    for (const char* prompt : {"t", "th", "the", "the end"}) {
        params.prompt = prompt;
        ASSERT_TRUE(stack.push(p, make_set_shot_params("shot-5", params, true)).ok());
        EXPECT_VALID(p);
    }
    EXPECT_EQ(stack.size(), 1u);
    EXPECT_EQ(p.shots[1].params.prompt, "the end");
    // Another shot does not merge; neither do non-merging edits.
    GenerationParams other = p.shots[0].params;
    other.seed = 7;
    ASSERT_TRUE(stack.push(p, make_set_shot_params("shot-2", other, true)).ok());
    params.prompt = "the end.";
    ASSERT_TRUE(stack.push(p, make_set_shot_params("shot-5", params)).ok());
    EXPECT_EQ(stack.size(), 3u);
    stack.undo(p);
    stack.undo(p);
    stack.undo(p);
    EXPECT_VALID(p);
    EXPECT_EQ(p, before);
    ASSERT_TRUE(stack.redo(p).ok());
    EXPECT_EQ(p.shots[1].params.prompt, "the end");
}

// ---- Takes ----

TEST(EditTakes, AddTakeSelectsItAndUndoRestoresSelection) {
    Project p = sample_project();
    exercise(p, make_add_take("shot-5", sample_take("take-50", "takes/b1.mp4")));
    EXPECT_EQ(p.shots[1].selected_take, "take-50");
    exercise(p, make_add_take("shot-2", sample_take("", "takes/a3.mp4")));
    EXPECT_EQ(p.shots[0].takes.size(), 3u);
    EXPECT_EQ(p.shots[0].selected_take, p.shots[0].takes.back().id);
    EXPECT_EQ(p.shots[0].takes.back().id, "take-51");
}

TEST(EditTakes, AddTakeFailures) {
    Project p = sample_project();
    expect_fails(p, make_add_take("nope", sample_take("take-50", "x.mp4")), "no shot nope");
    expect_fails(p, make_add_take("shot-5", sample_take("take-3", "x.mp4")), "already used");
    expect_fails(p, make_add_take("shot-5", sample_take("take-50", "")), "no file");
    Take bad = sample_take("", "x.mp4");
    bad.params.steps = -1;
    expect_fails(p, make_add_take("shot-5", bad), "steps");
}

TEST(EditTakes, SelectTake) {
    Project p = sample_project();
    exercise(p, make_select_take("shot-2", "take-3"));
    EXPECT_EQ(p.shots[0].selected_take, "take-3");
    exercise(p, make_select_take("shot-2", ""));  // clears the choice
    EXPECT_TRUE(p.shots[0].selected_take.empty());
    expect_fails(p, make_select_take("shot-2", "take-99"), "no take take-99");
    expect_fails(p, make_select_take("shot-5", "take-3"), "no take take-3");  // another shot's take
}

// ---- Clips ----

TEST(EditClips, AddClipKeepsTrackSorted) {
    Project p = sample_project();
    exercise(p, make_add_clip("track-1", file_clip("clip-50", 48, 12)));  // exactly fills the gap
    const Track& t = p.sequence.tracks[0];
    ASSERT_EQ(t.clips.size(), 3u);
    EXPECT_EQ(t.clips[1].id, "clip-50");
    Clip of_take;
    of_take.source = ClipSource{"shot-2", "take-4", "takes/a2.mp4"};
    of_take.out = 10;
    of_take.position = 200;
    exercise(p, make_add_clip("track-1", of_take));
    EXPECT_EQ(p.sequence.tracks[0].clips.back().position, 200);
}

TEST(EditClips, AddClipFailures) {
    Project p = sample_project();
    expect_fails(p, make_add_clip("track-1", file_clip("clip-50", 47, 12)), "already taken");
    expect_fails(p, make_add_clip("track-404", file_clip("clip-50", 100, 5)), "no track track-404");
    expect_fails(p, make_add_clip("track-1", file_clip("clip-7", 100, 5)), "already used");
    expect_fails(p, make_add_clip("track-1", file_clip("clip-50", 100, 0)), "out must be greater than in");
    Clip ghost = file_clip("clip-50", 100, 5);
    ghost.source = ClipSource{"shot-2", "take-99", ""};
    expect_fails(p, make_add_clip("track-1", ghost), "take-99");
}

TEST(EditClips, RemoveClipAndUndoRestoresOrder) {
    Project p = sample_project();
    exercise(p, make_remove_clip("track-1", "clip-6"));
    ASSERT_EQ(p.sequence.tracks[0].clips.size(), 1u);
    EXPECT_EQ(p.sequence.tracks[0].clips[0].id, "clip-7");
    expect_fails(p, make_remove_clip("track-1", "clip-6"), "no clip clip-6");
    expect_fails(p, make_remove_clip("track-404", "clip-7"), "no track");
}

TEST(EditClips, MoveWithinAndAcrossTracks) {
    Project p = sample_project();
    exercise(p, make_move_clip("track-1", "clip-7", "track-1", 48));  // slide left to touch clip-6
    EXPECT_EQ(p.sequence.tracks[0].clips[1].position, 48);
    exercise(p, make_move_clip("track-1", "clip-6", "track-1", 100));  // jump past clip-7: reordered
    EXPECT_EQ(p.sequence.tracks[0].clips[0].id, "clip-7");
    EXPECT_EQ(p.sequence.tracks[0].clips[1].id, "clip-6");
    exercise(p, make_move_clip("track-1", "clip-6", "track-8", 100));
    EXPECT_EQ(p.sequence.tracks[1].clips.back().id, "clip-6");
    EXPECT_EQ(p.sequence.tracks[0].clips.size(), 1u);
}

TEST(EditClips, MoveFailures) {
    Project p = sample_project();
    expect_fails(p, make_move_clip("track-1", "clip-7", "track-1", 40), "overlap");
    expect_fails(p, make_move_clip("track-1", "clip-6", "track-8", 50), "overlap");  // music is 0..100
    expect_fails(p, make_move_clip("track-1", "clip-7", "track-1", -1), "before the start");
    expect_fails(p, make_move_clip("track-1", "clip-9", "track-1", 500), "no clip clip-9");
    expect_fails(p, make_move_clip("track-1", "clip-7", "track-404", 500), "no track track-404");
}

TEST(EditClips, DragMergesIntoOneUndoStepBackToTheStart) {
    Project p = sample_project();
    const Project before = p;
    UndoStack stack;
    for (const int64_t pos : {62, 70, 90}) {
        ASSERT_TRUE(stack.push(p, make_move_clip("track-1", "clip-7", "track-1", pos)).ok());
        EXPECT_VALID(p);
    }
    ASSERT_TRUE(
        stack.push(p, make_move_clip("track-1", "clip-7", "track-8", 100)).ok());  // onto another track
    ASSERT_TRUE(stack.push(p, make_move_clip("track-8", "clip-7", "track-8", 120)).ok());
    EXPECT_EQ(stack.size(), 1u);
    EXPECT_EQ(stack.undo_text(), "Move clip");
    const Project after = p;
    stack.undo(p);
    EXPECT_VALID(p);
    EXPECT_EQ(p, before);
    ASSERT_TRUE(stack.redo(p).ok());
    EXPECT_VALID(p);
    EXPECT_EQ(p, after);
    EXPECT_EQ(p.sequence.tracks[1].clips.back().id, "clip-7");
    EXPECT_EQ(p.sequence.tracks[1].clips.back().position, 120);
}

TEST(EditClips, MovesOfDifferentClipsOrAcrossSavesDoNotMerge) {
    Project p = sample_project();
    UndoStack stack;
    ASSERT_TRUE(stack.push(p, make_move_clip("track-1", "clip-7", "track-1", 70)).ok());
    ASSERT_TRUE(stack.push(p, make_move_clip("track-1", "clip-6", "track-1", 10)).ok());
    EXPECT_EQ(stack.size(), 2u);
    stack.set_clean();
    ASSERT_TRUE(stack.push(p, make_move_clip("track-1", "clip-6", "track-1", 12)).ok());
    EXPECT_EQ(stack.size(), 3u);  // merging would make the saved state unreachable
    EXPECT_FALSE(stack.is_clean());
    stack.undo(p);
    EXPECT_TRUE(stack.is_clean());
    EXPECT_EQ(p.sequence.tracks[0].clips[0].position, 10);
}

TEST(EditClips, ClosedMergeStartsANewStep) {
    // Two drags of one clip: the first released (close_merge) before the second begins.
    Project p = sample_project();
    UndoStack stack;
    ASSERT_TRUE(stack.push(p, make_move_clip("track-1", "clip-7", "track-1", 70)).ok());
    ASSERT_TRUE(stack.push(p, make_move_clip("track-1", "clip-7", "track-1", 80)).ok());
    stack.close_merge();
    ASSERT_TRUE(stack.push(p, make_move_clip("track-1", "clip-7", "track-1", 90)).ok());
    ASSERT_TRUE(stack.push(p, make_move_clip("track-1", "clip-7", "track-1", 95)).ok());
    EXPECT_EQ(stack.size(), 2u);
    stack.undo(p);
    EXPECT_VALID(p);
    EXPECT_EQ(p.sequence.tracks[0].clips.back().position, 80);
    // A refused command does not use up the closed state.
    stack.close_merge();
    EXPECT_FALSE(stack.push(p, make_move_clip("track-1", "clip-7", "track-1", -1)).ok());
    ASSERT_TRUE(stack.push(p, make_move_clip("track-1", "clip-7", "track-1", 85)).ok());
    EXPECT_EQ(stack.size(), 2u);  // the redo history was dropped, and 85 is a step of its own
    stack.undo(p);
    EXPECT_EQ(p.sequence.tracks[0].clips.back().position, 80);
}

// ---- Tracks and macros ----

TEST(EditTracks, AddTrackNamesAndIdsItself) {
    Project p = sample_project();
    Track v;
    exercise(p, make_add_track(v));
    EXPECT_EQ(p.sequence.tracks.back().name, "V2");
    EXPECT_EQ(p.sequence.tracks.back().id, "track-10");
    Track a;
    a.kind = TrackKind::Audio;
    EXPECT_EQ(exercise(p, make_add_track(a)), "Add audio track");
    EXPECT_EQ(p.sequence.tracks.back().name, "A2");
    Track dup;
    dup.id = "track-1";
    expect_fails(p, make_add_track(dup), "already used");
    Track clash;
    clash.clips = {file_clip("clip-6", 0, 5)};
    expect_fails(p, make_add_track(clash), "clip-6");
}

TEST(EditMacro, AllOrNothing) {
    Project p = sample_project();
    std::vector<std::unique_ptr<Command>> ok_steps;
    ok_steps.push_back(make_rename_shot("shot-2", "First"));
    ok_steps.push_back(make_remove_clip("track-1", "clip-7"));
    ok_steps.push_back(make_add_clip("track-1", file_clip("clip-60", 48, 100)));  // needs clip-7 gone
    EXPECT_EQ(exercise(p, make_macro("Replace stock", std::move(ok_steps))), "Replace stock");

    std::vector<std::unique_ptr<Command>> bad_steps;
    bad_steps.push_back(make_rename_shot("shot-2", "Changed"));
    bad_steps.push_back(make_add_shot(Shot{}));                                 // draws a fresh id
    bad_steps.push_back(make_add_clip("track-1", file_clip("clip-61", 0, 5)));  // overlaps: fails
    expect_fails(p, make_macro("Broken", std::move(bad_steps)), "already taken");
}

TEST(EditMacro, AddTakeToTimelineIsOneStep) {
    Project p = sample_project();
    const int64_t end = p.sequence.tracks[0].end();
    Take take = sample_take("take-70", "takes/b1.mp4");
    EXPECT_EQ(exercise(p, make_add_take_to_timeline(p, "shot-5", take, 33)),
              "Add take of Closing to timeline");
    const Shot& shot = p.shots[1];
    EXPECT_EQ(shot.selected_take, "take-70");
    const Clip& clip = p.sequence.tracks[0].clips.back();
    EXPECT_EQ(clip.source, (ClipSource{"shot-5", "take-70", "takes/b1.mp4"}));
    EXPECT_EQ(clip.in, 0);
    EXPECT_EQ(clip.out, 33);
    EXPECT_EQ(clip.position, end);
    // A second take goes right after the first.
    exercise(p, make_add_take_to_timeline(p, "shot-5", sample_take("", "takes/b2.mp4"), 10));
    EXPECT_EQ(p.sequence.tracks[0].clips.back().position, end + 33);
}

TEST(EditMacro, AddTakeToTimelineFailuresChangeNothing) {
    Project p = sample_project();
    expect_fails(p, make_add_take_to_timeline(p, "shot-5", sample_take("take-70", "b.mp4"), 0), "no frames");
    expect_fails(p, make_add_take_to_timeline(p, "nope", sample_take("take-70", "b.mp4"), 10),
                 "no shot nope");
    p.sequence.tracks.erase(p.sequence.tracks.begin());  // only the audio track is left
    expect_fails(p, make_add_take_to_timeline(p, "shot-5", sample_take("take-70", "b.mp4"), 10),
                 "no video track");
}

// ---- The stack ----

TEST(UndoStackTest, CleanStateTracking) {
    Project p = Project::make_new();
    UndoStack stack;
    EXPECT_TRUE(stack.is_clean());
    EXPECT_FALSE(stack.can_undo());
    EXPECT_FALSE(stack.redo(p).ok());
    ASSERT_TRUE(stack.push(p, make_add_shot(Shot{})).ok());
    EXPECT_FALSE(stack.is_clean());
    stack.set_clean();
    ASSERT_TRUE(stack.push(p, make_add_shot(Shot{})).ok());
    EXPECT_FALSE(stack.is_clean());
    stack.undo(p);
    EXPECT_TRUE(stack.is_clean());
    stack.undo(p);
    EXPECT_FALSE(stack.is_clean());
    // A new edit here drops the redo history, and with it the saved state.
    ASSERT_TRUE(stack.push(p, make_add_track(Track{})).ok());
    EXPECT_FALSE(stack.can_redo());
    EXPECT_EQ(stack.size(), 1u);
    stack.undo(p);
    EXPECT_FALSE(stack.is_clean());
    ASSERT_TRUE(stack.redo(p).ok());
    EXPECT_FALSE(stack.is_clean());
    stack.clear();
    EXPECT_TRUE(stack.is_clean());
    EXPECT_EQ(stack.size(), 0u);
    EXPECT_EQ(stack.undo_text(), "");
    EXPECT_EQ(stack.redo_text(), "");
}

TEST(UndoStackTest, FailedPushKeepsRedoHistory) {
    Project p = sample_project();
    UndoStack stack;
    ASSERT_TRUE(stack.push(p, make_rename_shot("shot-2", "A")).ok());
    stack.undo(p);
    EXPECT_FALSE(stack.push(p, make_remove_shot("nope")).ok());
    EXPECT_TRUE(stack.can_redo());
    EXPECT_EQ(stack.redo_text(), "Rename shot");
}

TEST(UndoStackTest, LongSessionUndoesAndRedoesExactly) {
    Project p = sample_project();
    const Project start = p;
    UndoStack stack;
    std::vector<Project> states{p};
    const auto push = [&](std::unique_ptr<Command> c) {
        const auto r = stack.push(p, std::move(c));
        ASSERT_TRUE(r.ok()) << r.message();
        EXPECT_VALID(p);
        states.push_back(p);
    };
    push(make_add_shot(Shot{}, 0));
    push(make_add_take_to_timeline(p, "shot-5", sample_take("", "takes/b1.mp4"), 20));
    push(make_add_track(Track{}));
    push(make_move_clip("track-1", "clip-7", p.sequence.tracks.back().id, 5));
    push(make_remove_shot("shot-2"));
    push(make_select_take("shot-5", ""));
    push(make_remove_clip("track-8", "clip-9"));
    ASSERT_EQ(stack.size(), states.size() - 1);
    for (size_t i = states.size() - 1; i-- > 0;) {
        stack.undo(p);
        EXPECT_VALID(p);
        EXPECT_EQ(p, states[i]) << "after undoing to state " << i;
    }
    EXPECT_EQ(p, start);
    for (size_t i = 1; i < states.size(); ++i) {
        ASSERT_TRUE(stack.redo(p).ok());
        EXPECT_VALID(p);
        EXPECT_EQ(p, states[i]) << "after redoing to state " << i;
    }
    // What the edits built also survives the file format.
    const auto back = project_from_json(project_to_json(p));
    ASSERT_TRUE(back.ok()) << back.message();
    EXPECT_EQ(*back, p);
}

}  // namespace
}  // namespace fl::core

namespace fl::core {
namespace {

TEST(EditIds, CallerChosenIdsKeepFreshIdsFresh) {
    Project p = Project::make_new();
    Clip c;
    c.id = "clip-41";
    c.source.file = "a.mp4";
    c.out = 5;
    UndoStack stack;
    ASSERT_TRUE(stack.push(p, make_add_clip(p.sequence.tracks[0].id, c)).ok());
    EXPECT_EQ(p.next_id, 42);
    EXPECT_EQ(id_number("clip-41"), 41);
    EXPECT_EQ(id_number("intro"), -1);
    EXPECT_EQ(id_number("clip-"), -1);
    EXPECT_EQ(id_number("clip-99999999999999999999"), INT64_MAX);
    Clip huge = c;
    huge.id = "clip-99999999999999999999";
    huge.position = 10;
    const Project before = p;
    const auto r = stack.push(p, make_add_clip(p.sequence.tracks[0].id, huge));
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.message().find("too large"), std::string::npos);
    EXPECT_EQ(p, before);
    stack.undo(p);
    EXPECT_EQ(p.next_id, 2);
    EXPECT_TRUE(p.check_invariants().ok());
}

}  // namespace
}  // namespace fl::core
