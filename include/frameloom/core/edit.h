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
    bool is_clean() const { return clean_index_ == static_cast<long>(index_); }
    void clear();
    size_t size() const { return commands_.size(); }

private:
    std::vector<std::unique_ptr<Command>> commands_;
    size_t index_ = 0;       ///< number of applied commands
    long clean_index_ = 0;   ///< index at last save (-1 if unreachable)
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
