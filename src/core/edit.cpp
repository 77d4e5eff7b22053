#include "frameloom/core/edit.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <cstdint>
#include <functional>
#include <set>
#include <utility>

namespace fl::core {

namespace {
/// 128-bit intermediate for frame × speed products (GCC/Clang extension, no -Wpedantic noise).
__extension__ typedef __int128 Wide;
}  // namespace

// ---- UndoStack ----

Result<void> UndoStack::push(Project& project, std::unique_ptr<Command> cmd) {
    if (!cmd) return fail("internal: no command to run");
    // Run first: a failed command changes nothing, not even the redo history.
    FL_TRY(cmd->redo(project));
    if (index_ < commands_.size()) {
        commands_.erase(commands_.begin() + static_cast<std::ptrdiff_t>(index_), commands_.end());
        if (clean_index_ > static_cast<long>(index_)) clean_index_ = -1;  // the saved state is gone for good
    }
    // Never merge into the saved state: undoing the merged step would skip past it; nor across the end of
    // a gesture (close_merge).
    const bool closed = std::exchange(merge_closed_, false);
    if (index_ > 0 && static_cast<long>(index_) != clean_index_ && !closed) {
        Command& top = *commands_[index_ - 1];
        if (top.merge_id() >= 0 && top.merge_id() == cmd->merge_id() && top.merge_with(*cmd)) return ok();
    }
    commands_.push_back(std::move(cmd));
    ++index_;
    return ok();
}

void UndoStack::undo(Project& project) {
    if (!can_undo()) return;
    --index_;
    commands_[index_]->undo(project);
}

Result<void> UndoStack::redo(Project& project) {
    if (!can_redo()) return fail("nothing to redo");
    FL_TRY(commands_[index_]->redo(project));
    ++index_;
    return ok();
}

std::string UndoStack::undo_text() const {
    return can_undo() ? commands_[index_ - 1]->text() : std::string();
}

std::string UndoStack::redo_text() const { return can_redo() ? commands_[index_]->text() : std::string(); }

void UndoStack::clear() {
    // Like QUndoStack::clear(): the history is gone and the current state counts as saved.
    commands_.clear();
    index_ = 0;
    clean_index_ = 0;
}

namespace {

// ---- Shared validation ----

/// Every id defined in the project plus every id a clip source still refers to (a removed shot's
/// id must not be reused, or its orphaned clips would re-attach to a stranger).
std::set<std::string> used_ids(const Project& p) {
    std::set<std::string> ids;
    for (const Shot& s : p.shots) {
        ids.insert(s.id);
        for (const Take& t : s.takes) ids.insert(t.id);
    }
    for (const Track& t : p.sequence.tracks) {
        ids.insert(t.id);
        for (const Clip& c : t.clips) {
            ids.insert(c.id);
            if (!c.source.shot_id.empty()) ids.insert(c.source.shot_id);
            if (!c.source.take_id.empty()) ids.insert(c.source.take_id);
        }
    }
    return ids;
}

/// The clip source must resolve: an existing shot's take, or a file when the shot is gone.
Result<void> check_source(const Project& p, const Clip& clip) {
    if (clip.source.shot_id.empty()) return ok();
    const Shot* shot = p.find_shot(clip.source.shot_id);
    if (!shot) {
        if (clip.source.file.empty())
            return fail("clip " + clip.id + " names shot " + clip.source.shot_id + ", which does not exist");
        return ok();
    }
    if (!shot->find_take(clip.source.take_id))
        return fail("clip " + clip.id + " names take " + clip.source.take_id + ", which shot " + shot->id +
                    " does not have");
    return ok();
}

/// Index at which a clip starting at `position` keeps `track` sorted.
size_t sorted_slot(const Track& track, int64_t position) {
    const auto it = std::upper_bound(track.clips.begin(), track.clips.end(), position,
                                     [](int64_t pos, const Clip& c) { return pos < c.position; });
    return static_cast<size_t>(it - track.clips.begin());
}

void insert_sorted(Track& track, Clip clip) {
    const size_t at = sorted_slot(track, clip.position);
    track.clips.insert(track.clips.begin() + static_cast<std::ptrdiff_t>(at), std::move(clip));
}

/// Removes and returns the clip with this id (the caller has checked it exists).
Clip take_clip(Track& track, const std::string& clip_id) {
    const int i = track.index_of(clip_id);
    Clip c = std::move(track.clips[static_cast<size_t>(i)]);
    track.clips.erase(track.clips.begin() + i);
    return c;
}

Error no_shot(const std::string& shot_id) { return fail("there is no shot " + shot_id); }
Error no_track(const std::string& track_id) { return fail("there is no track " + track_id); }

/// New ids must leave room for fresh ones: next_id has to be able to pass their number.
Result<void> check_id_number(const std::string& id) {
    if (id_number(id) >= INT64_MAX / 2)
        return fail("the id " + id + " has a number too large (use a shorter id)");
    return ok();
}

/// Raises next_id above the number of `id` ("clip-41" → at least 42), so fresh ids never collide with it.
void bump_next_id(Project& p, const std::string& id) { p.next_id = std::max(p.next_id, id_number(id) + 1); }

enum MergeIds { kMergeShotParams = 1, kMergeMoveClip = 2, kMergeTrackEdit = 3 };

// ---- Commands ----

class AddShot final : public Command {
public:
    AddShot(Shot shot, int index) : shot_(std::move(shot)), index_(index) {}

    Result<void> redo(Project& p) override {
        if (index_ < -1 || index_ > static_cast<int>(p.shots.size()))
            return fail("cannot add shot at position " + std::to_string(index_) + ": the storyboard has " +
                        std::to_string(p.shots.size()) + " shots");
        Shot shot = shot_;
        const int64_t saved_next = p.next_id;
        if (shot.id.empty()) shot.id = p.fresh_id("shot");
        const auto restore = [&](Error e) {
            p.next_id = saved_next;
            return e;
        };
        auto ids = used_ids(p);
        if (ids.count(shot.id))
            return restore(fail("cannot add shot " + shot.id + ": the id is already used"));
        for (Take& t : shot.takes) {
            if (t.id.empty()) t.id = p.fresh_id("take");
            if (!ids.insert(t.id).second)
                return restore(fail("cannot add shot " + shot.id + ": take id " + t.id + " is already used"));
        }
        if (auto r = shot.check_invariants(); !r) return restore(fail("cannot add shot: " + r.message()));
        if (auto r = check_id_number(shot.id); !r) return restore(fail("cannot add shot: " + r.message()));
        for (const Take& t : shot.takes)
            if (auto r = check_id_number(t.id); !r) return restore(fail("cannot add shot: " + r.message()));
        if (auto r = shot.params.check_invariants(); !r)
            return restore(fail("cannot add shot " + shot.id + ": " + r.message()));
        saved_next_ = saved_next;
        // Ids chosen by the caller may run ahead of the counter; keep fresh ids fresh.
        bump_next_id(p, shot.id);
        for (const Take& t : shot.takes) bump_next_id(p, t.id);
        added_id_ = shot.id;
        const size_t at = index_ < 0 ? p.shots.size() : static_cast<size_t>(index_);
        p.shots.insert(p.shots.begin() + static_cast<std::ptrdiff_t>(at), std::move(shot));
        return ok();
    }

    void undo(Project& p) override {
        p.shots.erase(p.shots.begin() + p.shot_index(added_id_));
        p.next_id = saved_next_;
    }

    std::string text() const override { return "Add shot"; }

private:
    Shot shot_;
    int index_;
    std::string added_id_;
    int64_t saved_next_ = 1;
};

class RemoveShot final : public Command {
public:
    explicit RemoveShot(std::string shot_id) : shot_id_(std::move(shot_id)) {}

    Result<void> redo(Project& p) override {
        const int i = p.shot_index(shot_id_);
        if (i < 0) return no_shot(shot_id_);
        // Clips of this shot stay on the timeline and play from their file, so each needs one.
        for (const Track& t : p.sequence.tracks)
            for (const Clip& c : t.clips)
                if (c.source.shot_id == shot_id_ && c.source.file.empty())
                    return fail("cannot remove shot " + shot_id_ + ": clip " + c.id +
                                " uses it and has no file");
        index_ = i;
        removed_ = std::move(p.shots[static_cast<size_t>(i)]);
        p.shots.erase(p.shots.begin() + i);
        return ok();
    }

    void undo(Project& p) override { p.shots.insert(p.shots.begin() + index_, removed_); }

    std::string text() const override { return "Remove shot"; }

private:
    std::string shot_id_;
    Shot removed_;
    int index_ = 0;
};

class RemoveTake final : public Command {
public:
    RemoveTake(std::string shot_id, std::string take_id)
        : shot_id_(std::move(shot_id)), take_id_(std::move(take_id)) {}

    Result<void> redo(Project& p) override {
        Shot* shot = p.find_shot(shot_id_);
        if (!shot) return no_shot(shot_id_);
        const auto it = std::find_if(shot->takes.begin(), shot->takes.end(),
                                     [&](const Take& t) { return t.id == take_id_; });
        if (it == shot->takes.end()) return fail("shot " + shot_id_ + " has no take " + take_id_);
        for (const Track& t : p.sequence.tracks)
            for (const Clip& c : t.clips)
                if (c.source.shot_id == shot_id_ && c.source.take_id == take_id_)
                    return fail("cannot remove take " + take_id_ + ": clip " + c.id + " on track " + t.id +
                                " shows it (remove the clip first)");
        index_ = it - shot->takes.begin();
        removed_ = *it;
        old_selected_ = shot->selected_take;
        shot->takes.erase(it);
        // Only the project entry goes; the file stays, so undo (and anything made from it) still works.
        if (shot->selected_take == take_id_)
            shot->selected_take = shot->takes.empty() ? "" : shot->takes.back().id;
        return ok();
    }

    void undo(Project& p) override {
        Shot* shot = p.find_shot(shot_id_);
        shot->takes.insert(shot->takes.begin() + index_, removed_);
        shot->selected_take = old_selected_;
    }

    std::string text() const override { return "Remove take"; }

private:
    std::string shot_id_;
    std::string take_id_;
    Take removed_;
    std::string old_selected_;
    std::ptrdiff_t index_ = 0;
};

class SetShotParams final : public Command {
public:
    SetShotParams(std::string shot_id, GenerationParams params, bool merge)
        : shot_id_(std::move(shot_id)), new_(std::move(params)), merge_(merge) {}

    Result<void> redo(Project& p) override {
        Shot* shot = p.find_shot(shot_id_);
        if (!shot) return no_shot(shot_id_);
        if (auto r = new_.check_invariants(); !r)
            return fail("cannot change shot " + shot_id_ + ": " + r.message());
        old_ = shot->params;
        shot->params = new_;
        return ok();
    }

    void undo(Project& p) override { p.find_shot(shot_id_)->params = old_; }
    std::string text() const override { return "Change shot settings"; }
    int merge_id() const override { return merge_ ? kMergeShotParams : -1; }

    bool merge_with(const Command& next) override {
        const auto* n = dynamic_cast<const SetShotParams*>(&next);
        if (!n || !n->merge_ || n->shot_id_ != shot_id_) return false;
        new_ = n->new_;  // keep our old_: undo returns to before the first edit
        return true;
    }

private:
    std::string shot_id_;
    GenerationParams new_;
    GenerationParams old_;
    bool merge_;
};

class RenameShot final : public Command {
public:
    RenameShot(std::string shot_id, std::string name) : shot_id_(std::move(shot_id)), new_(std::move(name)) {}

    Result<void> redo(Project& p) override {
        Shot* shot = p.find_shot(shot_id_);
        if (!shot) return no_shot(shot_id_);
        old_ = shot->name;
        shot->name = new_;
        return ok();
    }

    void undo(Project& p) override { p.find_shot(shot_id_)->name = old_; }
    std::string text() const override { return "Rename shot"; }

private:
    std::string shot_id_;
    std::string new_;
    std::string old_;
};

class AddTake final : public Command {
public:
    AddTake(std::string shot_id, Take take) : shot_id_(std::move(shot_id)), take_(std::move(take)) {}

    Result<void> redo(Project& p) override {
        Shot* shot = p.find_shot(shot_id_);
        if (!shot) return no_shot(shot_id_);
        Take take = take_;
        saved_next_ = p.next_id;
        if (take.id.empty()) take.id = p.fresh_id("take");
        Result<void> valid = used_ids(p).count(take.id)
                                 ? Result<void>(fail("the id " + take.id + " is already used"))
                                 : take.check_invariants();
        if (valid) valid = take.params.check_invariants();
        if (valid) valid = check_id_number(take.id);
        if (!valid) {
            p.next_id = saved_next_;
            return fail("cannot add take to shot " + shot_id_ + ": " + valid.message());
        }
        bump_next_id(p, take.id);
        old_selected_ = shot->selected_take;
        take_id_ = take.id;
        shot->takes.push_back(std::move(take));
        shot->selected_take = take_id_;
        return ok();
    }

    void undo(Project& p) override {
        Shot* shot = p.find_shot(shot_id_);
        shot->takes.pop_back();
        shot->selected_take = old_selected_;
        p.next_id = saved_next_;
    }

    std::string text() const override { return "Add take"; }

private:
    std::string shot_id_;
    Take take_;
    std::string take_id_;
    std::string old_selected_;
    int64_t saved_next_ = 1;
};

class SelectTake final : public Command {
public:
    SelectTake(std::string shot_id, std::string take_id)
        : shot_id_(std::move(shot_id)), new_(std::move(take_id)) {}

    Result<void> redo(Project& p) override {
        Shot* shot = p.find_shot(shot_id_);
        if (!shot) return no_shot(shot_id_);
        if (!new_.empty() && !shot->find_take(new_)) return fail("shot " + shot_id_ + " has no take " + new_);
        old_ = shot->selected_take;
        shot->selected_take = new_;
        return ok();
    }

    void undo(Project& p) override { p.find_shot(shot_id_)->selected_take = old_; }
    std::string text() const override { return "Select take"; }

private:
    std::string shot_id_;
    std::string new_;
    std::string old_;
};

class AddClip final : public Command {
public:
    AddClip(std::string track_id, Clip clip) : track_id_(std::move(track_id)), clip_(std::move(clip)) {}

    Result<void> redo(Project& p) override {
        Track* track = p.sequence.find_track(track_id_);
        if (!track) return no_track(track_id_);
        Clip clip = clip_;
        saved_next_ = p.next_id;
        if (clip.id.empty()) clip.id = p.fresh_id("clip");
        Result<void> valid = used_ids(p).count(clip.id)
                                 ? Result<void>(fail("the id " + clip.id + " is already used"))
                                 : clip.check_invariants();
        if (valid) valid = check_source(p, clip);
        if (valid) valid = check_id_number(clip.id);
        if (valid && !track->is_free(clip.position, clip.duration()))
            valid = fail("frames " + std::to_string(clip.position) + "–" + std::to_string(clip.end()) +
                         " of track " + track->name + " are already taken");
        if (!valid) {
            p.next_id = saved_next_;
            return fail("cannot place clip: " + valid.message());
        }
        bump_next_id(p, clip.id);
        clip_id_ = clip.id;
        insert_sorted(*track, std::move(clip));
        return ok();
    }

    void undo(Project& p) override {
        take_clip(*p.sequence.find_track(track_id_), clip_id_);
        p.next_id = saved_next_;
    }

    std::string text() const override { return "Add clip"; }

private:
    std::string track_id_;
    Clip clip_;
    std::string clip_id_;
    int64_t saved_next_ = 1;
};

class RemoveClip final : public Command {
public:
    RemoveClip(std::string track_id, std::string clip_id)
        : track_id_(std::move(track_id)), clip_id_(std::move(clip_id)) {}

    Result<void> redo(Project& p) override {
        Track* track = p.sequence.find_track(track_id_);
        if (!track) return no_track(track_id_);
        const int i = track->index_of(clip_id_);
        if (i < 0) return fail("track " + track->name + " has no clip " + clip_id_);
        index_ = i;
        removed_ = take_clip(*track, clip_id_);
        return ok();
    }

    void undo(Project& p) override {
        Track& track = *p.sequence.find_track(track_id_);
        track.clips.insert(track.clips.begin() + index_, removed_);
    }

    std::string text() const override { return "Remove clip"; }

private:
    std::string track_id_;
    std::string clip_id_;
    Clip removed_;
    int index_ = 0;
};

/// Moving a clip within a track or to another one:
///   before  V1: [a][clip]    V2: [b]
///   after   V1: [a]          V2: [b]   [clip]      (to_track V2, to_position after b)
/// Undo puts the clip back at its original index and position.
class MoveClip final : public Command {
public:
    MoveClip(std::string track_id, std::string clip_id, std::string to_track_id, int64_t to_position)
        : from_track_(std::move(track_id)),
          clip_id_(std::move(clip_id)),
          to_track_(std::move(to_track_id)),
          to_position_(to_position) {}

    Result<void> redo(Project& p) override {
        Track* from = p.sequence.find_track(from_track_);
        if (!from) return no_track(from_track_);
        Track* to = p.sequence.find_track(to_track_);
        if (!to) return no_track(to_track_);
        const int i = from->index_of(clip_id_);
        if (i < 0) return fail("track " + from->name + " has no clip " + clip_id_);
        if (to_position_ < 0)
            return fail("cannot move clip " + clip_id_ + " before the start of the sequence");
        const Clip& clip = from->clips[static_cast<size_t>(i)];
        if (!to->is_free(to_position_, clip.duration(), to == from ? clip_id_ : std::string()))
            return fail("cannot move clip " + clip_id_ + " to frame " + std::to_string(to_position_) +
                        " of track " + to->name + ": it would overlap another clip");
        from_index_ = i;
        from_position_ = clip.position;
        Clip moved = take_clip(*from, clip_id_);
        moved.position = to_position_;
        insert_sorted(*to, std::move(moved));
        return ok();
    }

    void undo(Project& p) override {
        Clip clip = take_clip(*p.sequence.find_track(to_track_), clip_id_);
        clip.position = from_position_;
        Track& from = *p.sequence.find_track(from_track_);
        from.clips.insert(from.clips.begin() + from_index_, std::move(clip));
    }

    std::string text() const override { return "Move clip"; }
    int merge_id() const override { return kMergeMoveClip; }

    /// A drag is many moves of one clip, each starting where the last ended; they become one step.
    bool merge_with(const Command& next) override {
        const auto* n = dynamic_cast<const MoveClip*>(&next);
        if (!n || n->clip_id_ != clip_id_ || n->from_track_ != to_track_ || n->from_position_ != to_position_)
            return false;
        to_track_ = n->to_track_;
        to_position_ = n->to_position_;
        return true;
    }

private:
    std::string from_track_;
    std::string clip_id_;
    std::string to_track_;
    int64_t to_position_;
    int from_index_ = 0;
    int64_t from_position_ = 0;
};

class AddTrack final : public Command {
public:
    explicit AddTrack(Track track) : track_(std::move(track)) {}

    Result<void> redo(Project& p) override {
        Track track = track_;
        saved_next_ = p.next_id;
        if (track.id.empty()) track.id = p.fresh_id("track");
        if (track.name.empty()) {
            const auto same_kind = std::count_if(p.sequence.tracks.begin(), p.sequence.tracks.end(),
                                                 [&](const Track& t) { return t.kind == track.kind; });
            track.name = track.kind == TrackKind::Video ? "V" : "A";
            track.name += std::to_string(same_kind + 1);
        }
        auto ids = used_ids(p);
        Result<void> valid = ids.count(track.id)
                                 ? Result<void>(fail("the id " + track.id + " is already used"))
                                 : track.check_invariants();
        if (valid) valid = check_id_number(track.id);
        for (const Clip& c : track.clips) {
            if (!valid) break;
            if (!ids.insert(c.id).second || c.id == track.id) {
                valid = fail("the clip id " + c.id + " is already used");
                break;
            }
            valid = check_source(p, c);
            if (valid) valid = check_id_number(c.id);
        }
        if (!valid) {
            p.next_id = saved_next_;
            return fail("cannot add track: " + valid.message());
        }
        bump_next_id(p, track.id);
        for (const Clip& c : track.clips) bump_next_id(p, c.id);
        track_id_ = track.id;
        p.sequence.tracks.push_back(std::move(track));
        return ok();
    }

    void undo(Project& p) override {
        p.sequence.tracks.pop_back();
        p.next_id = saved_next_;
    }

    std::string text() const override {
        return track_.kind == TrackKind::Video ? "Add video track" : "Add audio track";
    }

private:
    Track track_;
    std::string track_id_;
    int64_t saved_next_ = 1;
};

class Macro final : public Command {
public:
    Macro(std::string text, std::vector<std::unique_ptr<Command>> commands)
        : text_(std::move(text)), commands_(std::move(commands)) {}

    Result<void> redo(Project& p) override {
        for (size_t i = 0; i < commands_.size(); ++i) {
            if (!commands_[i]) continue;
            if (auto r = commands_[i]->redo(p); !r) {
                // All or nothing: roll back what already ran, newest first.
                for (size_t j = i; j-- > 0;)
                    if (commands_[j]) commands_[j]->undo(p);
                return r;
            }
        }
        return ok();
    }

    void undo(Project& p) override {
        for (size_t j = commands_.size(); j-- > 0;)
            if (commands_[j]) commands_[j]->undo(p);
    }

    std::string text() const override { return text_; }

private:
    std::string text_;
    std::vector<std::unique_ptr<Command>> commands_;
};

/// Appends a clip of the shot's selected take at the end of the first video track.
/// Reads the take at redo time, so it follows an AddTake in the same macro.
class AppendSelectedTake final : public Command {
public:
    AppendSelectedTake(std::string shot_id, std::string clip_name, int64_t frame_count)
        : shot_id_(std::move(shot_id)), clip_name_(std::move(clip_name)), frame_count_(frame_count) {}

    Result<void> redo(Project& p) override {
        const Shot* shot = p.find_shot(shot_id_);
        if (!shot) return no_shot(shot_id_);
        const Take* take = shot->find_take(shot->selected_take);
        if (!take) return fail("shot " + shot_id_ + " has no selected take to put on the timeline");
        if (frame_count_ <= 0)
            return fail("cannot put take " + take->id + " on the timeline: it has no frames (" +
                        std::to_string(frame_count_) + ")");
        Track* track = p.sequence.first_video_track();
        if (!track)
            return fail("cannot put take " + take->id + " on the timeline: the sequence has no video track");
        saved_next_ = p.next_id;
        Clip clip;
        clip.id = p.fresh_id("clip");
        clip.name = clip_name_.empty() ? shot->id : clip_name_;
        clip.source = ClipSource{shot->id, take->id, take->file};
        clip.in = 0;
        clip.out = frame_count_;
        clip.position = track->end();
        track_id_ = track->id;
        clip_id_ = clip.id;
        track->clips.push_back(std::move(clip));  // at the end, so the track stays sorted
        return ok();
    }

    void undo(Project& p) override {
        take_clip(*p.sequence.find_track(track_id_), clip_id_);
        p.next_id = saved_next_;
    }

    std::string text() const override { return "Add take to timeline"; }

private:
    std::string shot_id_;
    std::string clip_name_;
    int64_t frame_count_;
    std::string track_id_;
    std::string clip_id_;
    int64_t saved_next_ = 1;
};

// ---- Timeline edits ----

/// An edit of one track, recorded as the whole track before and after, so undo is exact whatever the
/// algorithm did (ripples, splits, clamped fades). `apply` works on a copy; the result must pass
/// Track::check_invariants or nothing changes. Edits with the same non-empty merge key merge (drags).
class TrackEdit final : public Command {
public:
    using Apply = std::function<Result<void>(Project&, Track&)>;

    TrackEdit(std::string text, std::string track_id, std::string clip_id, Apply apply, std::string merge_key = {})
        : text_(std::move(text)),
          track_id_(std::move(track_id)),
          clip_id_(std::move(clip_id)),
          apply_(std::move(apply)),
          merge_key_(std::move(merge_key)) {}

    Result<void> redo(Project& p) override {
        Track* track = p.sequence.find_track(track_id_);
        if (!track) return fail("cannot " + text_lower() + ": " + no_track(track_id_).message);
        if (applied_) {  // a redo after undo: the history guarantees the track is as it was
            *track = after_;
            p.next_id = after_next_;
            return ok();
        }
        Track edited = *track;
        const int64_t saved_next = p.next_id;
        Result<void> r = track->index_of(clip_id_) < 0
                             ? Result<void>(fail("track " + track->name + " has no clip " + clip_id_))
                             : apply_(p, edited);
        if (r) r = edited.check_invariants();
        if (!r) {
            p.next_id = saved_next;
            return fail("cannot " + text_lower() + " " + clip_id_ + ": " + r.message());
        }
        before_ = *track;
        after_ = edited;
        before_next_ = saved_next;
        after_next_ = p.next_id;
        *track = std::move(edited);
        applied_ = true;
        return ok();
    }

    void undo(Project& p) override {
        *p.sequence.find_track(track_id_) = before_;
        p.next_id = before_next_;
    }

    std::string text() const override { return text_; }
    int merge_id() const override { return merge_key_.empty() ? -1 : kMergeTrackEdit; }

    bool merge_with(const Command& next) override {
        const auto* n = dynamic_cast<const TrackEdit*>(&next);
        if (!n || merge_key_.empty() || n->merge_key_ != merge_key_ || n->track_id_ != track_id_) return false;
        after_ = n->after_;  // keep our before_: undo returns to before the drag
        after_next_ = n->after_next_;
        return true;
    }

private:
    std::string text_lower() const {
        std::string t = text_;
        if (!t.empty()) t[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(t[0])));
        return t;
    }

    std::string text_;
    std::string track_id_;
    std::string clip_id_;
    Apply apply_;
    std::string merge_key_;
    bool applied_ = false;
    Track before_;
    Track after_;
    int64_t before_next_ = 1;
    int64_t after_next_ = 1;
};

/// Index of `clip_id` in `track` (TrackEdit has checked it exists).
size_t clip_at(const Track& track, const std::string& clip_id) {
    return static_cast<size_t>(track.index_of(clip_id));
}

/// Shortens fades that no longer fit after a clip got shorter (fade-out first keeps the ending).
void fit_fades(Clip& c) {
    const int64_t d = c.duration();
    c.fade_out = std::min(c.fade_out, d);
    c.fade_in = std::min(c.fade_in, d - c.fade_out);
}

/// An id no clip, track, shot or take uses yet.
std::string unused_clip_id(Project& p) {
    const auto ids = used_ids(p);
    std::string id = p.fresh_id("clip");
    while (ids.count(id)) id = p.fresh_id("clip");
    return id;
}

class AddAudioClip final : public Command {
public:
    AddAudioClip(std::string track_id, Clip clip) : track_id_(std::move(track_id)), clip_(std::move(clip)) {}

    Result<void> redo(Project& p) override {
        const Track* track = p.sequence.find_track(track_id_);
        if (!track) return no_track(track_id_);
        if (track->kind != TrackKind::Audio)
            return fail("cannot add audio clip: track " + track->name + " is a video track");
        if (clip_.source.file.empty()) return fail("cannot add audio clip: no file given");
        if (clip_.out <= 0)
            return fail("cannot add audio clip " + clip_.source.file + ": it has no frames (" +
                        std::to_string(clip_.out) + ")");
        if (!inner_) inner_ = make_add_clip(track_id_, clip_);
        return inner_->redo(p);
    }

    void undo(Project& p) override { inner_->undo(p); }
    std::string text() const override { return "Add audio clip"; }

private:
    std::string track_id_;
    Clip clip_;
    std::unique_ptr<Command> inner_;
};

}  // namespace

std::unique_ptr<Command> make_trim_in(const std::string& track_id, const std::string& clip_id, int64_t new_in) {
    auto apply = [clip_id, new_in](Project&, Track& t) -> Result<void> {
        Clip& c = t.clips[clip_at(t, clip_id)];
        if (new_in < 0 || new_in >= c.out)
            return fail("the new in point " + std::to_string(new_in) + " must be between 0 and " +
                        std::to_string(c.out - 1));
        const int64_t end = c.end();
        c.in = new_in;
        c.position = end - c.duration();
        if (c.position < 0) return fail("it would start before the beginning of the sequence");
        fit_fades(c);
        return ok();
    };
    return std::make_unique<TrackEdit>("Trim clip start", track_id, clip_id, apply, "trim-in:" + clip_id);
}

std::unique_ptr<Command> make_trim_out(const std::string& track_id, const std::string& clip_id, int64_t new_out) {
    auto apply = [clip_id, new_out](Project&, Track& t) -> Result<void> {
        Clip& c = t.clips[clip_at(t, clip_id)];
        if (new_out <= c.in)
            return fail("the new out point " + std::to_string(new_out) + " must be after the in point " +
                        std::to_string(c.in));
        c.out = new_out;
        fit_fades(c);
        return ok();
    };
    return std::make_unique<TrackEdit>("Trim clip end", track_id, clip_id, apply, "trim-out:" + clip_id);
}

std::unique_ptr<Command> make_split_clip(const std::string& track_id, const std::string& clip_id, int64_t at) {
    auto apply = [clip_id, at](Project& p, Track& t) -> Result<void> {
        const size_t i = clip_at(t, clip_id);
        Clip left = t.clips[i];
        const int64_t k = at - left.position;
        if (k <= 0 || k >= left.duration())
            return fail("frame " + std::to_string(at) + " is not inside it (frames " +
                        std::to_string(left.position) + "–" + std::to_string(left.end() - 1) + ")");
        const Wide scaled = static_cast<Wide>(k) * left.speed.num;
        if (scaled % left.speed.den != 0)
            return fail("at speed " + to_string(left.speed) + " frame " + std::to_string(at) +
                        " falls inside a source frame; split where a source frame begins");
        const int64_t s = static_cast<int64_t>(scaled / left.speed.den);
        Clip right = left;
        right.id = unused_clip_id(p);
        right.in = left.in + s;
        right.position = at;
        right.fade_in = 0;
        right.transition_in = 0;
        left.out = left.in + s;
        left.fade_out = 0;
        fit_fades(left);
        fit_fades(right);
        if (left.duration() != k || right.position + right.duration() != t.clips[i].end())
            return fail("internal: split lengths do not add up");
        t.clips[i] = std::move(left);
        t.clips.insert(t.clips.begin() + static_cast<std::ptrdiff_t>(i) + 1, std::move(right));
        return ok();
    };
    return std::make_unique<TrackEdit>("Split clip", track_id, clip_id, apply);
}

std::unique_ptr<Command> make_ripple_delete(const std::string& track_id, const std::string& clip_id) {
    auto apply = [clip_id](Project&, Track& t) -> Result<void> {
        const size_t i = clip_at(t, clip_id);
        const Clip& c = t.clips[i];
        // The hole runs from where the clip stops sharing with its predecessor to where the next one starts
        // sharing with it; closing it makes the neighbours meet at a cut.
        const int64_t hole_start = c.position + t.overlap_before(i);
        const int64_t next_overlap = t.overlap_before(i + 1);
        const int64_t hole_end = c.end() - next_overlap;
        const int64_t shift = hole_end - hole_start;
        t.clips.erase(t.clips.begin() + static_cast<std::ptrdiff_t>(i));
        if (i < t.clips.size() && next_overlap > 0) t.clips[i].transition_in = 0;
        for (size_t j = i; j < t.clips.size(); ++j) t.clips[j].position -= shift;
        return ok();
    };
    return std::make_unique<TrackEdit>("Ripple delete", track_id, clip_id, apply);
}

std::unique_ptr<Command> make_set_speed(const std::string& track_id, const std::string& clip_id, Rational speed) {
    auto apply = [clip_id, speed](Project&, Track& t) -> Result<void> {
        if (speed.num <= 0 || speed.den <= 0)
            return fail("speed " + to_string(speed) + " must be positive");
        Clip& c = t.clips[clip_at(t, clip_id)];
        c.speed = Rational::make(speed.num, speed.den);
        fit_fades(c);
        return ok();
    };
    return std::make_unique<TrackEdit>("Change clip speed", track_id, clip_id, apply);
}

std::unique_ptr<Command> make_set_fades(const std::string& track_id, const std::string& clip_id, int64_t fade_in,
                                        int64_t fade_out) {
    auto apply = [clip_id, fade_in, fade_out](Project&, Track& t) -> Result<void> {
        Clip& c = t.clips[clip_at(t, clip_id)];
        c.fade_in = fade_in;
        c.fade_out = fade_out;
        return ok();
    };
    return std::make_unique<TrackEdit>("Change fades", track_id, clip_id, apply, "fades:" + clip_id);
}

std::unique_ptr<Command> make_set_gain(const std::string& track_id, const std::string& clip_id, double gain_db) {
    auto apply = [clip_id, gain_db](Project&, Track& t) -> Result<void> {
        if (t.kind != TrackKind::Audio)
            return fail("gain applies to clips on audio tracks, and " + t.name + " is a video track");
        t.clips[clip_at(t, clip_id)].gain_db = gain_db;
        return ok();
    };
    return std::make_unique<TrackEdit>("Change gain", track_id, clip_id, apply, "gain:" + clip_id);
}

std::unique_ptr<Command> make_set_transition(const std::string& track_id, const std::string& clip_id,
                                             int64_t frames) {
    auto apply = [clip_id, frames](Project&, Track& t) -> Result<void> {
        const size_t i = clip_at(t, clip_id);
        if (frames < 0) return fail("a crossfade cannot be " + std::to_string(frames) + " frames long");
        if (i == 0) {
            if (frames == 0) {
                t.clips[i].transition_in = 0;
                return ok();
            }
            return fail("it is the first clip on its track: there is nothing to crossfade from");
        }
        const Clip& prev = t.clips[i - 1];
        const int64_t live = t.overlap_before(i);
        const int64_t gap = t.clips[i].position + live - prev.end();
        if (gap != 0)
            return fail("it does not follow " + prev.id + " directly (a gap of " + std::to_string(gap) +
                        " frames): move it next to " + prev.id + " first");
        if (frames > prev.duration())
            return fail("a crossfade of " + std::to_string(frames) + " frames is longer than " + prev.id + " (" +
                        std::to_string(prev.duration()) + " frames)");
        const int64_t delta = frames - live;  // how far this clip and the rest of the track move left
        for (size_t j = i; j < t.clips.size(); ++j) t.clips[j].position -= delta;
        t.clips[i].transition_in = frames;
        return ok();
    };
    return std::make_unique<TrackEdit>(frames == 0 ? "Remove crossfade" : "Set crossfade", track_id, clip_id, apply);
}

std::unique_ptr<Command> make_clear_transition(const std::string& track_id, const std::string& clip_id) {
    return make_set_transition(track_id, clip_id, 0);
}

std::unique_ptr<Command> make_add_audio_clip(const std::string& track_id, const std::string& file, int64_t position,
                                             int64_t frames, double gain_db, std::string name) {
    Clip clip;
    clip.name = name.empty() ? std::filesystem::path(file).stem().string() : std::move(name);
    clip.source.file = file;
    clip.in = 0;
    clip.out = frames;
    clip.position = position;
    clip.gain_db = gain_db;
    return std::make_unique<AddAudioClip>(track_id, std::move(clip));
}

std::unique_ptr<Command> make_add_shot(Shot shot, int index) {
    return std::make_unique<AddShot>(std::move(shot), index);
}

std::unique_ptr<Command> make_remove_shot(const std::string& shot_id) {
    return std::make_unique<RemoveShot>(shot_id);
}

std::unique_ptr<Command> make_set_shot_params(const std::string& shot_id, GenerationParams params,
                                              bool merge) {
    return std::make_unique<SetShotParams>(shot_id, std::move(params), merge);
}

std::unique_ptr<Command> make_rename_shot(const std::string& shot_id, std::string name) {
    return std::make_unique<RenameShot>(shot_id, std::move(name));
}

std::unique_ptr<Command> make_add_take(const std::string& shot_id, Take take) {
    return std::make_unique<AddTake>(shot_id, std::move(take));
}

std::unique_ptr<Command> make_remove_take(const std::string& shot_id, const std::string& take_id) {
    return std::make_unique<RemoveTake>(shot_id, take_id);
}

std::unique_ptr<Command> make_select_take(const std::string& shot_id, const std::string& take_id) {
    return std::make_unique<SelectTake>(shot_id, take_id);
}

std::unique_ptr<Command> make_add_clip(const std::string& track_id, Clip clip) {
    return std::make_unique<AddClip>(track_id, std::move(clip));
}

std::unique_ptr<Command> make_remove_clip(const std::string& track_id, const std::string& clip_id) {
    return std::make_unique<RemoveClip>(track_id, clip_id);
}

std::unique_ptr<Command> make_move_clip(const std::string& track_id, const std::string& clip_id,
                                        const std::string& to_track_id, int64_t to_position) {
    return std::make_unique<MoveClip>(track_id, clip_id, to_track_id, to_position);
}

std::unique_ptr<Command> make_add_track(Track track) { return std::make_unique<AddTrack>(std::move(track)); }

std::unique_ptr<Command> make_macro(std::string text, std::vector<std::unique_ptr<Command>> commands) {
    return std::make_unique<Macro>(std::move(text), std::move(commands));
}

std::unique_ptr<Command> make_add_take_to_timeline(const Project& project, const std::string& shot_id,
                                                   Take take, int64_t frame_count) {
    const Shot* shot = project.find_shot(shot_id);
    const std::string shot_name = shot && !shot->name.empty() ? shot->name : shot_id;
    std::vector<std::unique_ptr<Command>> steps;
    steps.push_back(make_add_take(shot_id, std::move(take)));  // also selects it
    steps.push_back(std::make_unique<AppendSelectedTake>(shot_id, shot_name, frame_count));
    return make_macro("Add take of " + shot_name + " to timeline", std::move(steps));
}

}  // namespace fl::core

// ---- Storyboard and takes (the studio) ----

namespace fl::core {

namespace {

/// Duplicating a shot:  [a][b][c] → [a][b][b copy][c]. The copy has the parameters, not the takes (those
/// are files of the original), and a fresh id; undo removes it.
class DuplicateShot final : public Command {
public:
    explicit DuplicateShot(std::string shot_id) : shot_id_(std::move(shot_id)) {}

    Result<void> redo(Project& p) override {
        const int i = p.shot_index(shot_id_);
        if (i < 0) return no_shot(shot_id_);
        Shot copy = p.shots[static_cast<size_t>(i)];
        copy.id.clear();
        copy.takes.clear();
        copy.selected_take.clear();
        copy.name = (copy.name.empty() ? shot_id_ : copy.name) + " copy";
        add_ = std::make_unique<AddShot>(std::move(copy), i + 1);
        return add_->redo(p);
    }

    void undo(Project& p) override { add_->undo(p); }
    std::string text() const override { return "Duplicate shot"; }

private:
    std::string shot_id_;
    std::unique_ptr<AddShot> add_;
};

class MoveShot final : public Command {
public:
    MoveShot(std::string shot_id, int to_index) : shot_id_(std::move(shot_id)), to_(to_index) {}

    Result<void> redo(Project& p) override {
        const int i = p.shot_index(shot_id_);
        if (i < 0) return no_shot(shot_id_);
        if (to_ < 0 || to_ >= static_cast<int>(p.shots.size()))
            return fail("cannot move shot " + shot_id_ + " to position " + std::to_string(to_ + 1) +
                        ": the storyboard has " + std::to_string(p.shots.size()) + " shots");
        if (to_ == i) return fail("shot " + shot_id_ + " is already at position " + std::to_string(to_ + 1));
        from_ = i;
        Shot shot = std::move(p.shots[static_cast<size_t>(i)]);
        p.shots.erase(p.shots.begin() + i);
        p.shots.insert(p.shots.begin() + to_, std::move(shot));
        return ok();
    }

    void undo(Project& p) override {
        Shot shot = std::move(p.shots[static_cast<size_t>(to_)]);
        p.shots.erase(p.shots.begin() + to_);
        p.shots.insert(p.shots.begin() + from_, std::move(shot));
    }

    std::string text() const override { return "Move shot"; }

private:
    std::string shot_id_;
    int to_;
    int from_ = 0;
};

/// Picking take t2 of a shot whose take t1 is on the timeline:
///   before  V1: [a][shot:t1 (16)][c]      selected t1
///   after   V1: [a][shot:t2 (16)][c]      selected t2   (same place; length from t2 where there is room)
/// With no clip of the shot on the timeline, t2 is appended at the end of the first video track.
/// Undo restores the tracks and the selection as they were.
class PickTake final : public Command {
public:
    PickTake(std::string shot_id, std::string take_id, int64_t frame_count)
        : shot_id_(std::move(shot_id)), take_id_(std::move(take_id)), frame_count_(frame_count) {}

    Result<void> redo(Project& p) override {
        Shot* shot = p.find_shot(shot_id_);
        if (!shot) return no_shot(shot_id_);
        const Take* take = shot->find_take(take_id_);
        if (!take) return fail("shot " + shot_id_ + " has no take " + take_id_);
        if (frame_count_ <= 0)
            return fail("cannot pick take " + take_id_ + ": it has no frames (" + std::to_string(frame_count_) + ")");
        std::vector<Track> tracks = p.sequence.tracks;
        bool on_timeline = false;
        bool changed = shot->selected_take != take_id_;
        for (Track& track : tracks) {
            for (Clip& clip : track.clips) {
                if (clip.source.shot_id != shot_id_) continue;
                on_timeline = true;
                if (clip.source.take_id == take_id_) continue;
                changed = true;
                clip.source.take_id = take_id_;
                clip.source.file = take->file;
                if (clip.in >= frame_count_) clip.in = 0;
                if (clip.in == 0 && track.is_free(clip.position, frame_count_, clip.id))
                    clip.out = frame_count_;
                else
                    clip.out = std::max(clip.in + 1, std::min(clip.out, frame_count_));
            }
        }
        saved_next_ = p.next_id;
        if (!on_timeline) {
            Track* track = nullptr;
            for (Track& t : tracks)
                if (t.kind == TrackKind::Video) {
                    track = &t;
                    break;
                }
            if (!track) return fail("cannot put take " + take_id_ + " on the timeline: the sequence has no video track");
            Clip clip;
            clip.id = p.fresh_id("clip");
            clip.name = shot->name.empty() ? shot->id : shot->name;
            clip.source = ClipSource{shot->id, take->id, take->file};
            clip.out = frame_count_;
            clip.position = track->end();
            track->clips.push_back(std::move(clip));
            changed = true;
        }
        if (!changed) {
            p.next_id = saved_next_;
            return fail("take " + take_id_ + " is already the picked take of shot " + shot_id_);
        }
        old_tracks_ = std::move(p.sequence.tracks);
        old_selected_ = shot->selected_take;
        p.sequence.tracks = std::move(tracks);
        shot->selected_take = take_id_;
        return ok();
    }

    void undo(Project& p) override {
        p.sequence.tracks = old_tracks_;
        p.find_shot(shot_id_)->selected_take = old_selected_;
        p.next_id = saved_next_;
    }

    std::string text() const override { return "Pick take"; }

private:
    std::string shot_id_;
    std::string take_id_;
    int64_t frame_count_;
    std::vector<Track> old_tracks_;
    std::string old_selected_;
    int64_t saved_next_ = 1;
};

}  // namespace

std::unique_ptr<Command> make_duplicate_shot(const std::string& shot_id) {
    return std::make_unique<DuplicateShot>(shot_id);
}

std::unique_ptr<Command> make_move_shot(const std::string& shot_id, int to_index) {
    return std::make_unique<MoveShot>(shot_id, to_index);
}

std::unique_ptr<Command> make_pick_take(const std::string& shot_id, const std::string& take_id,
                                        int64_t frame_count) {
    return std::make_unique<PickTake>(shot_id, take_id, frame_count);
}

}  // namespace fl::core
