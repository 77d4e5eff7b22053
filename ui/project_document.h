#pragma once
/// The open project as the studio sees it: the Project, its UndoStack and its file path.

#include <QObject>
#include <QString>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "frameloom/core/edit.h"
#include "frameloom/core/project.h"
#include "frameloom/core/result.h"

namespace fl::studio {

/// The example prompt of a new project's first shot.
inline constexpr const char* kExamplePrompt = "a red circle moving left on a black background";

/// A new project that is ready to generate: one shot, "Shot 1", with `defaults` and the example prompt.
core::Project make_starter_project(const core::GenerationParams& defaults);

/// Owns the project and its history; every change goes through push()/undo()/redo() and emits changed().
class ProjectDocument : public QObject {
    Q_OBJECT
public:
    explicit ProjectDocument(QObject* parent = nullptr);
    /// Removes the files of the unsaved-media folder that neither the saved project nor its autosave
    /// references (takes, clips, keyframes, queued generations); the folder goes only when none is left.
    /// When the saved file exists but cannot be read, nothing is removed.
    ~ProjectDocument() override;

    /// The project as it stands (read-only: edit it with push()).
    const core::Project& project() const { return project_; }
    /// The history (for undo/redo texts).
    const core::UndoStack& undo_stack() const { return stack_; }
    /// The file the project was opened from or saved to; empty for a new, unsaved project.
    const std::filesystem::path& path() const { return path_; }
    /// True when there are changes since the last save (or since new/open).
    bool is_modified() const { return !stack_.is_clean(); }
    /// Bumped by new/open, so results of work started for an earlier project can be dropped.
    int epoch() const { return epoch_; }

    /// Runs one undoable edit; on error the project is unchanged and the error says why.
    core::Result<void> push(std::unique_ptr<core::Command> command);
    void undo();
    core::Result<void> redo();
    /// Ends a continuous gesture (a timeline drag released): the next edit is a new undo step.
    void end_gesture() { stack_.close_merge(); }

    /// Replaces the document with a fresh, empty project.
    void reset_new(const std::string& name = "Untitled");
    /// Replaces the document with `project` as a new, unsaved and unmodified project (e.g. a starter shot).
    void reset_new(core::Project project);
    /// Loads a project file; on error the document (and the file) are unchanged.
    core::Result<void> open(const std::filesystem::path& path);
    /// Saves to path(); error if the project was never saved. Media still in the unsaved-media folder
    /// (takes finished after the first save) is copied into "<project>.media/" first.
    core::Result<void> save();
    /// Saves to `path` and makes it the document's path, so that the new file loses nothing: media in
    /// the unsaved-media folder or in the current "<project>.media/" is copied (never moved) into
    /// "<new>.media/", other media is referenced; references are rebased to the new folder; the file is
    /// written atomically. On error the project in memory and on disk is unchanged.
    core::Result<void> save_as(const std::filesystem::path& path);

    /// The autosave side file: "<project>.flproj.autosave" beside the project file; empty while unsaved.
    std::filesystem::path autosave_path() const;
    /// Writes the project to autosave_path() atomically (the project file itself is not touched).
    /// Returns false without writing when the project has no file yet.
    core::Result<bool> write_autosave();
    /// True when an autosave exists that is newer than the project file (work a crash may have lost).
    bool has_newer_autosave() const;
    /// Replaces the project with the autosave's content, as one undoable step (the document is then
    /// modified, so the user decides whether to save it). On error nothing changes.
    core::Result<void> restore_autosave();
    /// Deletes the autosave side file (after a save, or when the user discards the changes).
    void remove_autosave();

    /// Supplies the generation jobs not finished yet (queued or running), written into the project file
    /// and the autosave as "queued_generations". Conditioning paths are in the document's current form.
    void set_queued_provider(std::function<std::vector<core::QueuedGeneration>()> provider) {
        queued_provider_ = std::move(provider);
    }
    /// The unfinished generations the last open (or autosave restore) found in the file, handed over
    /// once: the caller queues them again. The in-memory project never holds them.
    std::vector<core::QueuedGeneration> take_queued_generations() {
        return std::exchange(queued_on_open_, {});
    }

    /// References (take, clip and conditioning files) whose file does not exist, distinct, in project order.
    std::vector<std::string> missing_media() const;
    /// Relinks every missing reference to a file of the same name in `folder` (or below it; takes with a
    /// known sha256 only to a file with that content) as one undoable step ("Relink media"). Returns the
    /// references still missing. Nothing found: no step is pushed and the project is unchanged.
    core::Result<std::vector<std::string>> relink_missing(const std::filesystem::path& folder);

    /// Folder where generated media goes: "<project>.media/" beside the file, or the unsaved-media folder.
    std::filesystem::path media_dir() const;
    /// Where takes of a never-saved project go: "$TMP/frameloom-<pid>-XXXXXX/media", one per document.
    const std::filesystem::path& unsaved_media_dir() const { return unsaved_media_; }
    /// Absolute path of a media reference stored in the project (relative ones are relative to the file).
    std::filesystem::path resolve_media(const std::string& file) const;
    /// The form to store in the project: relative to the project's folder when inside it, else absolute.
    std::string media_reference(const std::filesystem::path& absolute) const;

signals:
    /// Anything changed: contents, path or modified state.
    void changed();
    /// A different project was loaded or created (views drop caches and selections).
    void replaced();

private:
    core::Project project_;
    core::UndoStack stack_;
    std::filesystem::path path_;
    std::filesystem::path unsaved_root_;   ///< "$TMP/frameloom-<pid>-XXXXXX", removed at exit when unused
    std::filesystem::path unsaved_media_;  ///< unsaved_root_ / "media"
    std::vector<std::filesystem::path> former_media_;  ///< media folders of earlier saves since new/open
    int epoch_ = 0;
    std::function<std::vector<core::QueuedGeneration>()> queued_provider_;
    std::vector<core::QueuedGeneration> queued_on_open_;
};

}  // namespace fl::studio
