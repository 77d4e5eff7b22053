#pragma once
/// The studio's main window: menus, shot list, inspector, preview, timeline and jobs, wired to the engine.

#include <QMainWindow>
#include <QMessageBox>
#include <QString>
#include <QStringList>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "frameloom/consistency/ranking.h"
#include "frameloom/core/job.h"
#include "frameloom/core/project.h"
#include "frameloom/core/shot.h"
#include "ui/timeline_view.h"

class QAction;
class QPushButton;
class QScrollArea;
class QTimer;

namespace fl::studio {

class GenerationService;
class JobsPanel;
class PreviewPlayer;
class ExportDialog;
class ProjectDocument;
class ShotInspector;
class StoryboardPanel;
class TakesStrip;
class ThumbnailCache;
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
    /// The export dialog (nullptr until File ▸ Export was first used).
    ExportDialog* exportDialog() const { return export_dialog_; }
    ShotInspector* inspector() const { return inspector_; }
    StoryboardPanel* storyboard() const { return storyboard_; }
    TakesStrip* takesStrip() const { return takes_strip_; }
    /// Consistency scores of the takes measured in this session, by take id.
    const std::map<std::string, consistency::TakeScores>& takeScores() const { return scores_; }
    /// The best-ranked take of a shot ("" when fewer than two of its takes are scored).
    QString bestTake(const QString& shot_id) const;
    /// Autosave period (60 s by default); 0 stops the timer.
    void setAutosaveInterval(int ms);
    /// Replaces the "restore the autosave?" question (tests, scripts): called with the project path,
    /// returns true to restore.
    void setRestorePrompt(std::function<bool(const QString&)> prompt) { restore_prompt_ = std::move(prompt); }
    /// Replaces the "where did the media go?" folder chooser (tests, scripts): called with the missing
    /// references, returns the folder to look in ("" = leave them missing).
    void setRelinkPrompt(std::function<QString(const QStringList&)> prompt) {
        relink_prompt_ = std::move(prompt);
    }
    /// References of the open project whose files are still missing (after the last open or relink).
    const QStringList& missingMedia() const { return missing_media_; }
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
    /// Shot ▸ Duplicate shot: a copy of the selected shot's settings right after it.
    void duplicateShot();
    /// Moves a shot to `to_index` of the storyboard (one undo step; drag and drop of a card).
    bool moveShot(const QString& shot_id, int to_index);
    /// Generate N: queues `count` variations of the selected shot (seeds seed, seed+1, ... when the seed is
    /// locked, fresh random ones otherwise); their takes join the shot without changing its pick.
    QList<quint64> generateVariations(int count);
    /// Makes a take of the selected shot its picked take and puts it on the timeline (one undo step).
    bool pickTake(const QString& take_id);
    /// Queues a continuation of a take of the selected shot: a new take that starts with it, continued by
    /// the takes strip's "by N s" (one pass of the model when 0), its continuation colour-corrected unless
    /// the takes strip's "Correct" is off.
    quint64 extendTake(const QString& take_id);
    /// Exports the last frame of a take of the selected shot to a PNG in the media folder and makes it the
    /// next shot's first frame (a new shot after this one when it is the last). One undo step.
    bool useLastFrameForNextShot(const QString& take_id);
    /// Remix: the selected shot takes a take's settings with its seed, and the seed is locked, so editing the
    /// prompt and generating gives the same composition with the change. One undo step.
    bool remixTake(const QString& take_id);
    /// Shot ▸ Use preview frame as first/last frame: the picture the preview shows (a frame of a take or of
    /// the timeline) becomes the selected shot's first (`last` false) or last keyframe, written as a PNG in
    /// the media folder. One undo step; false (and the reason shown) when nothing is shown or no shot is
    /// selected.
    bool useShownFrameAsKeyframe(bool last);
    /// Removes a take of the selected shot (one undo step). Its file is kept on disk: undo brings the take
    /// back, and extensions or keyframes may have been made from it. Refused while a clip shows it.
    bool removeTake(const QString& take_id);
    /// Measures the takes of every shot that have no scores yet (a background job); 0 when none.
    quint64 scoreTakes();
    /// Timeline ▸ Check cuts: measures every cut between consecutive video clips (colour shift, brightness
    /// jump, motion) in a background job; the timeline shows a badge per cut. 0 when there is no cut.
    quint64 checkCuts();
    /// Writes the autosave side file when there are unsaved changes; true when it was written.
    bool autosaveNow();
    /// Shows a shot in the inspector and its takes in the take list.
    void selectShot(const QString& shot_id);
    /// Shot ▸ Generate: queues a generation of the selected shot; returns the job id (0 if refused).
    quint64 generate();
    /// Requests cancellation of a job.
    void cancelJob(quint64 id);
    /// File ▸ Export…: shows the export dialog (created on first use) and returns it.
    ExportDialog* fileExport();
    /// Queues a failed or cancelled generation again with exactly its settings (same seed); returns the
    /// new job's id, 0 when `id` is not a generation that can be retried.
    quint64 retryJob(quint64 id);
    /// File ▸ Relink media…: asks for the folder the missing media moved to and relinks what it holds
    /// (one undo step); returns the number of references still missing.
    int relinkMedia();
    /// Shows the timeline sequence in the preview at the playhead.
    void previewSequence();
    /// Shows a take of the current shot in the preview.
    void previewTake(const QString& take_id);

signals:
    /// A generation job ended; `applied` is true when its take is now in the project.
    void generationFinished(quint64 job_id, bool applied);
    /// A scoring job ended.
    void scoringFinished(quint64 job_id);
    /// A Check cuts job ended.
    void cutsChecked(quint64 job_id);
    /// The autosave side file was written.
    void autosaved(const QString& path);

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    struct PendingGeneration {
        std::shared_ptr<GeneratedTake> result;
        std::string shot_id;
        int epoch = 0;
        bool to_timeline = true;  ///< false: the take joins the shot, the pick and timeline stay
        /// What was asked, to retry it or store it in the project while unfinished (conditioning paths
        /// absolute).
        core::QueuedGeneration request;
    };
    struct PendingScores {
        std::shared_ptr<std::map<std::string, consistency::TakeScores>> result;
        int epoch = 0;
    };
    struct PendingCuts {
        std::shared_ptr<std::vector<CutScore>> result;
        int epoch = 0;
    };

    void create_actions();
    void create_layout();
    void onJobChanged(const core::JobStatus& status);
    bool apply_generation(uint64_t job_id, const PendingGeneration& pending);
    /// Queues one generation of `shot` with `params`; 0 when refused (the error is shown).
    quint64 submit_generation(const std::string& shot_id, const core::GenerationParams& params,
                              bool to_timeline, const std::string& title, bool correct_extension = true);
    /// Generations of the current project not finished yet, oldest first (for the project file).
    std::vector<core::QueuedGeneration> unfinished_generations() const;
    /// Queues again the unfinished generations the opened file (or restored autosave) held.
    void requeue_saved_generations();
    /// After open: asks where missing media went (relink prompt) and relinks; fills missing_media_.
    void offer_relink();
    /// Frames of a take at the sequence's rate (from the generation, else probed from its file); 0 unknown.
    int64_t take_frames_at_sequence_rate(const core::Take& take);
    std::set<std::string> generating_shots() const;
    /// The take `take_id` of the selected shot; nullptr after showing "<action>: the selected shot has no
    /// take".
    const core::Take* take_of_current_shot(const QString& take_id, const QString& action);
    std::filesystem::path project_dir() const;
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

    std::unique_ptr<ThumbnailCache> thumbnails_;
    std::map<std::string, consistency::TakeScores> scores_;  ///< by take id
    std::map<std::string, int64_t> take_frames_;             ///< by take id, at the take's own rate
    std::set<std::string> failed_shots_;                     ///< shots whose last generation failed
    std::map<uint64_t, PendingScores> pending_scores_;
    std::map<uint64_t, PendingCuts> pending_cuts_;
    std::function<bool(const QString&)> restore_prompt_;
    std::function<QString(const QStringList&)> relink_prompt_;
    QStringList missing_media_;
    QString relink_folder_;  ///< the folder chosen at the last open's relink ("" when none)
    std::map<uint64_t, core::QueuedGeneration> retryable_;  ///< failed/cancelled generations, by job id
    QTimer* autosave_timer_ = nullptr;

    StoryboardPanel* storyboard_ = nullptr;
    TakesStrip* takes_strip_ = nullptr;
    ShotInspector* inspector_ = nullptr;
    PreviewPlayer* preview_ = nullptr;
    TimelineView* timeline_ = nullptr;
    QScrollArea* timeline_scroll_ = nullptr;
    JobsPanel* jobs_panel_ = nullptr;
    ExportDialog* export_dialog_ = nullptr;
    QPushButton* generate_button_ = nullptr;

    QAction* undo_action_ = nullptr;
    QAction* redo_action_ = nullptr;
    QAction* generate_action_ = nullptr;
    QAction* remove_shot_action_ = nullptr;
    QAction* duplicate_shot_action_ = nullptr;
};

}  // namespace fl::studio
