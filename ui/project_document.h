#pragma once
/// The open project as the studio sees it: the Project, its UndoStack and its file path.

#include <QObject>
#include <QString>
#include <filesystem>
#include <memory>
#include <string>

#include "frameloom/core/edit.h"
#include "frameloom/core/project.h"
#include "frameloom/core/result.h"

namespace fl::studio {

/// Owns the project and its history; every change goes through push()/undo()/redo() and emits changed().
class ProjectDocument : public QObject {
    Q_OBJECT
public:
    explicit ProjectDocument(QObject* parent = nullptr);

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

    /// Replaces the document with a fresh project.
    void reset_new(const std::string& name = "Untitled");
    /// Loads a project file; on error the document (and the file) are unchanged.
    core::Result<void> open(const std::filesystem::path& path);
    /// Saves to path(); error if the project was never saved.
    core::Result<void> save();
    /// Saves to `path` and makes it the document's path.
    core::Result<void> save_as(const std::filesystem::path& path);

    /// Folder where generated media goes: "<project>.media/" beside the file, or a temp folder.
    std::filesystem::path media_dir() const;
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
    int epoch_ = 0;
};

}  // namespace fl::studio
