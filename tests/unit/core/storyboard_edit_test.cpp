// The studio's storyboard and take edits: duplicate, move (reorder), pick a take; each do → undo → redo.
#include <gtest/gtest.h>

#include "frameloom/core/edit.h"
#include "unit/core/core_test_util.h"
#include "unit/core/edit_test_util.h"

namespace fl::core {
namespace {

using test::exercise;
using test::expect_fails;
using test::sample_project;
using test::sample_take;

std::vector<std::string> shot_ids(const Project& p) {
    std::vector<std::string> ids;
    for (const Shot& s : p.shots) ids.push_back(s.id);
    return ids;
}

TEST(StoryboardEdits, DuplicateShotCopiesParamsNotTakesRightAfterIt) {
    Project p = sample_project();
    const Shot original = p.shots[0];
    const std::string closing = p.shots[1].id;
    EXPECT_EQ(exercise(p, make_duplicate_shot(original.id)), "Duplicate shot");
    ASSERT_EQ(p.shots.size(), 3u);
    const Shot copy = p.shots[1];
    EXPECT_EQ(copy.name, "Opening copy");
    EXPECT_EQ(copy.params, original.params);
    EXPECT_TRUE(copy.takes.empty());
    EXPECT_TRUE(copy.selected_take.empty());
    EXPECT_NE(copy.id, original.id);
    EXPECT_EQ(p.shots[0], original);
    EXPECT_EQ(p.shots[2].id, closing);
    // A second duplicate gets another fresh id.
    ASSERT_TRUE(UndoStack().push(p, make_duplicate_shot(original.id)).ok());
    EXPECT_NE(p.shots[1].id, copy.id);
    EXPECT_VALID(p);
    expect_fails(p, make_duplicate_shot("shot-999"), "no shot shot-999");
}

TEST(StoryboardEdits, MoveShotReordersAndUndoPutsItBack) {
    Project p = sample_project();
    UndoStack setup;
    Shot third;
    third.name = "Third";
    ASSERT_TRUE(setup.push(p, make_add_shot(third)).ok());
    const auto ids = shot_ids(p);  // [a, b, c]
    ASSERT_EQ(ids.size(), 3u);
    EXPECT_EQ(exercise(p, make_move_shot(ids[0], 2)), "Move shot");
    EXPECT_EQ(shot_ids(p), (std::vector<std::string>{ids[1], ids[2], ids[0]}));
    Project q = sample_project();
    ASSERT_TRUE(UndoStack().push(q, make_add_shot(third)).ok());
    exercise(q, make_move_shot(ids[2], 0));
    EXPECT_EQ(shot_ids(q), (std::vector<std::string>{ids[2], ids[0], ids[1]}));
    // Shots keep their takes and selection when moved.
    EXPECT_EQ(q.shots[1].takes.size(), 2u);
    EXPECT_EQ(q.shots[1].selected_take, q.shots[1].takes[1].id);

    expect_fails(q, make_move_shot(ids[0], 3), "the storyboard has 3 shots");
    expect_fails(q, make_move_shot(ids[0], -1), "cannot move shot");
    expect_fails(q, make_move_shot(ids[0], 1), "already at position 2");
    expect_fails(q, make_move_shot("shot-999", 0), "no shot shot-999");
}

TEST(StoryboardEdits, AddDuplicateMoveRemoveAsOneHistory) {
    Project p = Project::make_new("Board");
    UndoStack stack;
    std::vector<Project> states{p};
    Shot s;
    s.name = "One";
    s.params.prompt = "a red circle";
    ASSERT_TRUE(stack.push(p, make_add_shot(s)).ok());
    states.push_back(p);
    const std::string one = p.shots[0].id;
    ASSERT_TRUE(stack.push(p, make_duplicate_shot(one)).ok());
    states.push_back(p);
    ASSERT_TRUE(stack.push(p, make_move_shot(one, 1)).ok());
    states.push_back(p);
    EXPECT_EQ(p.shots[0].name, "One copy");
    EXPECT_EQ(p.shots[1].id, one);
    ASSERT_TRUE(stack.push(p, make_remove_shot(one)).ok());
    states.push_back(p);
    ASSERT_EQ(p.shots.size(), 1u);
    EXPECT_EQ(p.shots[0].name, "One copy");
    for (size_t i = states.size() - 1; i-- > 0;) {
        stack.undo(p);
        EXPECT_VALID(p);
        EXPECT_EQ(p, states[i]) << "after undo to state " << i;
    }
    for (size_t i = 1; i < states.size(); ++i) {
        ASSERT_TRUE(stack.redo(p).ok());
        EXPECT_VALID(p);
        EXPECT_EQ(p, states[i]) << "after redo to state " << i;
    }
}

TEST(PickTakeEdit, SwitchesTheShotsClipsToThePickedTake) {
    Project p = sample_project();
    Shot& a = p.shots[0];
    const std::string a_id = a.id;
    const Take t1 = a.takes[0];  // on the timeline (clip in 2, out 50)
    const Take t2 = a.takes[1];  // selected
    ASSERT_TRUE(UndoStack().push(p, make_select_take(a_id, t1.id)).ok());
    EXPECT_EQ(exercise(p, make_pick_take(a_id, t2.id, 40)), "Pick take");
    EXPECT_EQ(p.shots[0].selected_take, t2.id);
    const Clip& c = p.sequence.tracks[0].clips[0];
    EXPECT_EQ(c.source.take_id, t2.id);
    EXPECT_EQ(c.source.file, t2.file);
    EXPECT_EQ(c.in, 2);
    EXPECT_EQ(c.out, 40);  // clamped to the new take's length
    EXPECT_EQ(c.position, 0);
    EXPECT_EQ(p.sequence.tracks[0].clips.size(), 2u);
    expect_fails(p, make_pick_take(a_id, t2.id, 40), "already the picked take");
    expect_fails(p, make_pick_take(a_id, "take-999", 40), "no take take-999");
    expect_fails(p, make_pick_take(a_id, t1.id, 0), "no frames");
    expect_fails(p, make_pick_take("shot-999", t1.id, 16), "no shot shot-999");
}

TEST(PickTakeEdit, WholeTakeClipTakesTheNewLengthWhenThereIsRoom) {
    Project p = sample_project();
    const std::string a_id = p.shots[0].id;
    const std::string t2 = p.shots[0].takes[1].id;
    Clip& c = p.sequence.tracks[0].clips[0];
    c.in = 0;
    c.out = 16;  // a whole 16-frame take at 0; the next clip starts at 60
    exercise(p, make_pick_take(a_id, t2, 32));
    EXPECT_EQ(p.sequence.tracks[0].clips[0].out, 32);
    // No room: the clip keeps its length.
    Project q = sample_project();
    q.sequence.tracks[0].clips[0].in = 0;
    q.sequence.tracks[0].clips[0].out = 16;
    exercise(q, make_pick_take(a_id, t2, 100));
    EXPECT_EQ(q.sequence.tracks[0].clips[0].out, 16);
    EXPECT_EQ(q.sequence.tracks[0].clips[0].source.take_id, t2);
}

TEST(PickTakeEdit, AppendsWhenTheShotIsNotOnTheTimeline) {
    Project p = sample_project();
    const std::string b_id = p.shots[1].id;
    ASSERT_TRUE(UndoStack().push(p, make_add_take(b_id, sample_take("", "takes/b1.mp4"))).ok());
    ASSERT_TRUE(UndoStack().push(p, make_add_take(b_id, sample_take("", "takes/b2.mp4"))).ok());
    const std::string first = p.shots[1].takes[0].id;
    const int64_t end = p.sequence.tracks[0].end();
    exercise(p, make_pick_take(b_id, first, 16));
    EXPECT_EQ(p.shots[1].selected_take, first);
    const Clip& added = p.sequence.tracks[0].clips.back();
    EXPECT_EQ(added.source.shot_id, b_id);
    EXPECT_EQ(added.source.take_id, first);
    EXPECT_EQ(added.position, end);
    EXPECT_EQ(added.duration(), 16);
    EXPECT_EQ(added.name, "Closing");
}

}  // namespace
}  // namespace fl::core

namespace fl::core {
namespace {

/// The clip showing `take_id` as {track, clip} ids ({"", ""} when none).
std::pair<std::string, std::string> clip_of(const Project& p, const std::string& take_id) {
    for (const Track& t : p.sequence.tracks)
        for (const Clip& c : t.clips)
            if (c.source.take_id == take_id) return {t.id, c.id};
    return {};
}

TEST(RemoveTakeEdit, RemovesTheEntryOnlyAndThePickMovesToTheLastTake) {
    Project p = sample_project();
    const Shot& a = p.shots.front();
    ASSERT_EQ(a.takes.size(), 2u);
    const std::string shown = a.takes[0].id;  // on the timeline
    const std::string picked = a.takes[1].id;
    ASSERT_EQ(a.selected_take, picked);
    ASSERT_TRUE(clip_of(p, picked).second.empty());
    EXPECT_EQ(exercise(p, make_remove_take(a.id, picked)), "Remove take");
    const Shot& after = p.shots.front();
    ASSERT_EQ(after.takes.size(), 1u);
    EXPECT_EQ(after.takes[0].id, shown);
    EXPECT_EQ(after.selected_take, shown);
}

TEST(RemoveTakeEdit, RefusedWhileAClipShowsTheTake) {
    Project p = sample_project();
    const std::string shot = p.shots.front().id;
    const std::string shown = p.shots.front().takes[0].id;
    const std::string picked = p.shots.front().selected_take;
    const auto [track_id, clip_id] = clip_of(p, shown);
    ASSERT_FALSE(clip_id.empty());
    expect_fails(p, make_remove_take(shot, shown), "clip " + clip_id);
    expect_fails(p, make_remove_take(shot, "take-999"), "has no take take-999");
    expect_fails(p, make_remove_take("shot-999", shown), "no shot shot-999");

    UndoStack stack;
    ASSERT_TRUE(stack.push(p, make_remove_clip(track_id, clip_id)).ok());
    exercise(p, make_remove_take(shot, shown));
    EXPECT_EQ(p.shots.front().selected_take, picked);  // another take was picked: unchanged
    exercise(p, make_remove_take(shot, picked));
    EXPECT_TRUE(p.shots.front().takes.empty());
    EXPECT_TRUE(p.shots.front().selected_take.empty());
}

}  // namespace
}  // namespace fl::core
