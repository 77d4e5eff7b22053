#pragma once
/// File ▸ Export: the sequence rendered to a film (media::render_sequence) on the job queue.

#include <QDialog>
#include <QString>
#include <cstdint>
#include <string>

#include "frameloom/core/job.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;

namespace fl::studio {

class ProjectDocument;

/// Target path, format (MP4 H.264+AAC or MOV ProRes 422+PCM), progress and cancel. The render runs on the
/// studio's job queue from a snapshot of the project, so editing on does not change the film being made;
/// render_sequence writes to a temporary name, so the target appears only when the render succeeded.
class ExportDialog : public QDialog {
    Q_OBJECT
public:
    /// Index of the format box.
    enum Format { Mp4 = 0, Mov = 1 };

    /// `jobs` runs the render; the owner forwards the queue's status snapshots to onJobChanged().
    ExportDialog(ProjectDocument* document, core::JobQueue* jobs, QWidget* parent = nullptr);

    QString targetPath() const;
    Format format() const;
    /// The running (or last) export job; 0 before the first.
    quint64 jobId() const { return job_id_; }
    bool isRunning() const { return running_; }
    /// The last error or "Exported …" line.
    QString statusText() const;

public slots:
    /// Re-reads the sequence (picture line) and, when another project is open than at the last call, the
    /// default target beside it. Called each time the dialog is shown.
    void refresh();
    void setTargetPath(const QString& path);
    /// Also changes the target's extension to match (.mp4 / .mov).
    void setFormat(int format);
    /// Starts the render; returns the job id, 0 when refused (no path, wrong extension, empty sequence).
    quint64 startExport();
    /// Cancels the running export (no file is left at the target).
    void cancelExport();
    /// A status snapshot of the job queue (only this dialog's job is used).
    void onJobChanged(const core::JobStatus& status);

signals:
    /// The export ended: `ok` when the film is at the target; `message` says what happened.
    void exportFinished(bool ok, const QString& message);

private:
    void browse();
    void update_controls();

    ProjectDocument* document_;
    core::JobQueue* jobs_;
    quint64 job_id_ = 0;
    bool running_ = false;
    QLineEdit* path_ = nullptr;
    QComboBox* format_ = nullptr;
    QProgressBar* progress_ = nullptr;
    QLabel* status_ = nullptr;
    QLabel* picture_ = nullptr;
    std::string defaults_for_;  ///< the project (path and epoch) the default target was made for
    QPushButton* export_ = nullptr;
    QPushButton* cancel_ = nullptr;
    QPushButton* close_ = nullptr;
};

}  // namespace fl::studio
