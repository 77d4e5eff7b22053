#pragma once
/// The studio's main window: menus, shot list, inspector, preview, timeline and jobs, wired to the engine.

#include <QMainWindow>
#include <QMessageBox>
#include <QString>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "frameloom/core/job.h"
#include "frameloom/core/shot.h"

class QAction;
class QListWidget;
class QListWidgetItem;
class QPushButton;
class QScrollArea;

namespace fl::studio {

class GenerationService;
class JobsPanel;
class PreviewPlayer;
class ProjectDocument;
class ShotInspector;
class TimelineView;
struct GeneratedTake;

/// One studio window editing one project.
class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    /// `model_roots` empty: ModelStore::default_roots().
    explicit MainWindow(std::vector<std::filesystem::path> model_roots = {}, QWidget* parent = nullptr);
    ~MainWindow() override;

    ProjectDocument* document() const { return document_; }
    JobsPanel* jobsPanel() const { return jobs_panel_; }
    PreviewPlayer* preview() const { return preview_; }
    TimelineView* timeline() const { return timeline_; }
    ShotInspector* inspector() const { return inspector_; }
    /// Id of the shot shown in the inspector ("" when none).
    QString currentShot() const;
    /// Parameters a new shot starts from: the default model's defaults (core defaults without a model).
    const core::GenerationParams& shotDefaults() const { return shot_defaults_; }

    /// Tests and scripted use: when false, errors are recorded (lastError) instead of shown in a
    /// message box, and the save-changes question gets `unsavedAnswer()` without a dialog.
    void setInteractive(bool interactive) { interactive_ = interactive; }
    void setUnsavedAnswer(QMessageBox::StandardButton answer) { unsaved_answer_ = answer; }
    /// The last error shown to the user (one line).
    const QString& lastError() const { return last_error_; }

public slots:
    /// File ▸ New: asks about unsaved changes, then starts a project with one shot ready to generate.
    void fileNew();
    /// File ▸ Open…: asks about unsaved changes, then a file dialog.
    void fileOpen();
    /// Opens a project file without asking; on error shows the engine's message and keeps the current one.
    bool openProject(const QString& path);
    /// File ▸ Save (Save As when the project has no file yet).
    bool saveProject();
    /// File ▸ Save As…; `path` empty: ask with a file dialog.
    bool saveProjectAs(const QString& path = {});
    /// Shot ▸ New shot.
    void newShot();
    /// Shot ▸ Remove shot (the selected one).
    void removeShot();
    /// Shows a shot in the inspector and its takes in the take list.
    void selectShot(const QString& shot_id);
    /// Shot ▸ Generate: queues a generation of the selected shot; returns the job id (0 if refused).
    quint64 generate();
    /// Requests cancellation of a job.
    void cancelJob(quint64 id);
    /// Shows the timeline sequence in the preview at the playhead.
    void previewSequence();
    /// Shows a take of the current shot in the preview.
    void previewTake(const QString& take_id);

signals:
    /// A generation job ended; `applied` is true when its take is now in the project.
    void generationFinished(quint64 job_id, bool applied);

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    struct PendingGeneration {
        std::shared_ptr<GeneratedTake> result;
        std::string shot_id;
        int epoch = 0;
    };

    void create_actions();
    void create_layout();
    void onJobChanged(const core::JobStatus& status);
    bool apply_generation(uint64_t job_id, const PendingGeneration& pending);
    /// Save/Discard/Cancel when modified; true when it is fine to drop the current project.
    bool maybe_save();
    void show_error(const QString& title, const QString& message);
    void on_document_changed();
    void on_document_replaced();
    void rebuild_shot_list();
    void rebuild_take_list();

    ProjectDocument* document_ = nullptr;
    std::unique_ptr<GenerationService> service_;  // outlives jobs_ (declared first, destroyed last)
    std::unique_ptr<core::JobQueue> jobs_;
    std::map<uint64_t, PendingGeneration> pending_;
    uint64_t generation_counter_ = 0;

    core::GenerationParams shot_defaults_;
    std::string current_shot_;
    bool interactive_ = true;
    QMessageBox::StandardButton unsaved_answer_ = QMessageBox::Discard;
    QString last_error_;
    bool rebuilding_ = false;

    QListWidget* shot_list_ = nullptr;
    QListWidget* take_list_ = nullptr;
    ShotInspector* inspector_ = nullptr;
    PreviewPlayer* preview_ = nullptr;
    TimelineView* timeline_ = nullptr;
    QScrollArea* timeline_scroll_ = nullptr;
    JobsPanel* jobs_panel_ = nullptr;
    QPushButton* generate_button_ = nullptr;

    QAction* undo_action_ = nullptr;
    QAction* redo_action_ = nullptr;
    QAction* generate_action_ = nullptr;
    QAction* remove_shot_action_ = nullptr;
};

}  // namespace fl::studio
