#pragma once
/// User edits as undo/redo pairs (Shotcut/Kdenlive style). An edit that fails changes nothing.

#include <memory>
#include <string>
#include <vector>

#include "frameloom/core/project.h"
#include "frameloom/core/result.h"

namespace fl::core {

/// One undoable edit of a Project. redo() applies it (first time included); undo() reverts it exactly.
class Command {
public:
    virtual ~Command() = default;
    /// Applies the edit. On error the project must be unchanged.
    virtual Result<void> redo(Project& project) = 0;
    /// Reverts a successful redo(); cannot fail.
    virtual void undo(Project& project) = 0;
    /// Menu text, e.g. "Move clip".
    virtual std::string text() const = 0;
    /// Commands with the same non-negative id may merge (continuous drags); -1 = never merge.
    virtual int merge_id() const { return -1; }
    /// Absorbs `next` (already applied) into this command; returns false if it cannot.
    virtual bool merge_with(const Command& next) { (void)next; return false; }
};

/// The history of a project: executes commands, undoes and redoes them, checks invariants.
class UndoStack {
public:
    /// Runs cmd.redo(project); on success records it (merging with the top when allowed), drops redo history.
    Result<void> push(Project& project, std::unique_ptr<Command> cmd);
    bool can_undo() const { return index_ > 0; }
    bool can_redo() const { return index_ < commands_.size(); }
    void undo(Project& project);
    Result<void> redo(Project& project);
    std::string undo_text() const;
    std::string redo_text() const;
    /// Marks the current state as saved (for the "modified" indicator).
    void set_clean() { clean_index_ = static_cast<long>(index_); }
    /// Ends a continuous gesture (a drag released, a slider let go): the next command starts a new undo
    /// step even when it could merge with the top one.
    void close_merge() { merge_closed_ = true; }
    bool is_clean() const { return clean_index_ == static_cast<long>(index_); }
    void clear();
    size_t size() const { return commands_.size(); }

private:
    std::vector<std::unique_ptr<Command>> commands_;
    size_t index_ = 0;       ///< number of applied commands
    long clean_index_ = 0;   ///< index at last save (-1 if unreachable)
    bool merge_closed_ = false;  ///< set by close_merge(): the next push does not merge
};

// ---- The edits of the foundation. Each is one user action. ----

/// Appends a shot to the storyboard (at `index`, or the end when -1).
std::unique_ptr<Command> make_add_shot(Shot shot, int index = -1);
/// Removes a shot (its clips stay on the timeline; their source keeps the file path).
std::unique_ptr<Command> make_remove_shot(const std::string& shot_id);
/// Replaces a shot's parameters (merges consecutive edits of the same shot when `merge` is true).
std::unique_ptr<Command> make_set_shot_params(const std::string& shot_id, GenerationParams params, bool merge = false);
/// Renames a shot.
std::unique_ptr<Command> make_rename_shot(const std::string& shot_id, std::string name);
/// Adds a take to a shot and selects it.
std::unique_ptr<Command> make_add_take(const std::string& shot_id, Take take);
/// Removes a take from its shot. Its file is left on disk (undo brings the take back, and other takes or
/// keyframes may be made from it). Refused while a clip on the timeline shows the take; the shot's pick
/// moves to its last remaining take.
std::unique_ptr<Command> make_remove_take(const std::string& shot_id, const std::string& take_id);
/// Selects a take of a shot.
std::unique_ptr<Command> make_select_take(const std::string& shot_id, const std::string& take_id);
/// Places a clip on a track (fails if it overlaps).
std::unique_ptr<Command> make_add_clip(const std::string& track_id, Clip clip);
/// Removes a clip from a track.
std::unique_ptr<Command> make_remove_clip(const std::string& track_id, const std::string& clip_id);
/// Moves a clip to a new position/track; consecutive moves of one clip merge into one undo step.
std::unique_ptr<Command> make_move_clip(const std::string& track_id, const std::string& clip_id,
                                        const std::string& to_track_id, int64_t to_position);
/// Adds a track of the given kind.
std::unique_ptr<Command> make_add_track(Track track);
/// Groups several commands into one undo step (all applied or none).
std::unique_ptr<Command> make_macro(std::string text, std::vector<std::unique_ptr<Command>> commands);

// ---- Timeline edits (issue 5). Each changes one track; drags of one handle merge into one step. ----

/// Trims the clip's head to source frame `new_in`; the clip's end stays where it is.
///   before  [in ====== out)        after        [new_in == out)
///           ^position                           ^position moves so end() is unchanged
/// Consecutive trims of the same clip's head merge (a drag).
std::unique_ptr<Command> make_trim_in(const std::string& track_id, const std::string& clip_id, int64_t new_in);
/// Trims the clip's tail to source frame `new_out`; its position stays. Consecutive trims merge.
std::unique_ptr<Command> make_trim_out(const std::string& track_id, const std::string& clip_id, int64_t new_out);
/// Splits a clip at sequence frame `at` (strictly inside it) into two clips; the right one gets a fresh id.
///   before  [ clip ============ )      after  [ clip ====)[ clip-N ===== )
///                   ^at                                  ^at
/// The left part keeps the fade-in and crossfade, the right part the fade-out. At a speed other than
/// a whole number, `at` must fall where a source frame begins (k·speed whole), else it is refused.
std::unique_ptr<Command> make_split_clip(const std::string& track_id, const std::string& clip_id, int64_t at);
/// Removes a clip and closes the gap on its track: later clips on that track move left.
///   before  [a][clip][b][c]        after  [a][b][c]
/// A crossfade into the removed clip or out of it is dropped (the neighbours meet at a cut).
std::unique_ptr<Command> make_ripple_delete(const std::string& track_id, const std::string& clip_id);
/// Sets a clip's speed (2 = twice as fast); its position stays and its length follows. Fades are
/// shortened to fit. Fails if the longer clip would overlap the next one.
std::unique_ptr<Command> make_set_speed(const std::string& track_id, const std::string& clip_id, Rational speed);
/// Sets a clip's fade-in and fade-out (frames). Consecutive fade edits of one clip merge (handle drags).
std::unique_ptr<Command> make_set_fades(const std::string& track_id, const std::string& clip_id, int64_t fade_in,
                                        int64_t fade_out);
/// Sets the gain (dB) of a clip on an audio track. Consecutive gain edits of one clip merge (a slider).
std::unique_ptr<Command> make_set_gain(const std::string& track_id, const std::string& clip_id, double gain_db);
/// Makes the cut before `clip_id` a crossfade of `frames` (0 clears it). The clip must follow the previous
/// clip on its track directly; it and every later clip on the track move left so it overlaps by `frames`.
///   before  [ A ====)[ B ====)[ C )      after (frames 2)  [ A ====)          B, C moved left by 2
///                                                               [= B ====)[ C )
std::unique_ptr<Command> make_set_transition(const std::string& track_id, const std::string& clip_id,
                                             int64_t frames);
/// Clears the crossfade into a clip (make_set_transition(..., 0)).
std::unique_ptr<Command> make_clear_transition(const std::string& track_id, const std::string& clip_id);
/// Places an audio file on an audio track: `frames` long (at the sequence rate; the caller measures the
/// file, e.g. with media::probe_audio), starting at `position`, with gain `gain_db`. Fails on a video track.
std::unique_ptr<Command> make_add_audio_clip(const std::string& track_id, const std::string& file,
                                             int64_t position, int64_t frames, double gain_db = 0.0,
                                             std::string name = {});

// ---- Storyboard and takes (the studio). ----

/// Copies a shot's parameters (not its takes) into a new shot right after it, named "<name> copy".
std::unique_ptr<Command> make_duplicate_shot(const std::string& shot_id);
/// Moves a shot to `to_index` in the storyboard (0-based, counted in the storyboard without the shot):
///   before  [a][b][c][d]   move b to 2
///   after   [a][c][b][d]
std::unique_ptr<Command> make_move_shot(const std::string& shot_id, int to_index);
/// Picks a take as the shot's selected take and puts it on the timeline: clips of other takes of the
/// shot switch to it (a clip that showed a whole take, in = 0, takes the new take's `frame_count` when
/// the track has room; otherwise its out is kept, clamped to `frame_count`); when no clip of the shot
/// is on the timeline, one is appended at the end of the first video track.
std::unique_ptr<Command> make_pick_take(const std::string& shot_id, const std::string& take_id,
                                        int64_t frame_count);

/// "Generating a shot adds a take and puts it on the timeline": adds the take to the shot, selects it
/// and appends a clip of its full length at the end of the first video track, as one undo step.
std::unique_ptr<Command> make_add_take_to_timeline(const Project& project, const std::string& shot_id,
                                                   Take take, int64_t frame_count);

}  // namespace fl::core
