#pragma once
/// The list of background jobs: title, progress bar, step label with ETA, state, cancel and retry per job,
/// and a thumbnail of the current sampling step's estimate for generations.

#include <QImage>
#include <QPixmap>
#include <QString>
#include <QWidget>
#include <cstdint>
#include <functional>
#include <map>

#include "frameloom/core/job.h"

class QLabel;
class QProgressBar;
class QPushButton;
class QVBoxLayout;

namespace fl::studio {

/// Shows JobStatus snapshots (delivered on the GUI thread) as rows, newest at the bottom, under a
/// "Jobs" heading; while there are none, a hint says what will appear.
class JobsPanel : public QWidget {
    Q_OBJECT
public:
    explicit JobsPanel(QWidget* parent = nullptr);

    /// Adds or refreshes the row of a job.
    void updateJob(const core::JobStatus& status);
    /// Marks a job as failed after the fact (e.g. its result could not be applied to the project).
    void setJobError(uint64_t id, const QString& message);
    /// Shows (true) or hides the row's Retry button; it is only ever shown on failed or cancelled rows.
    void setRetryable(uint64_t id, bool retryable);
    /// Shows `image` (the model's estimate after step `step` of `steps`) as the row's thumbnail; it stays
    /// after the job ends, showing the last estimate. Unknown ids are ignored.
    void setPreview(uint64_t id, const QImage& image, int step, int steps);
    /// The row's thumbnail (null before the first preview or for unknown jobs).
    QPixmap previewPixmap(uint64_t id) const;
    /// Removes every row.
    void clear();
    /// Replaces the clock the ETA is measured with (milliseconds, monotonic); tests make time pass.
    void setClock(std::function<qint64()> now_ms) { now_ms_ = std::move(now_ms); }

    /// "about 12 s left" style estimate for a running job's current phase ("" until it can be told):
    /// the time the phase's counted steps took so far, scaled to the steps left.
    QString etaText(uint64_t id) const;
    /// True when the row's Retry button is shown and enabled.
    bool canRetry(uint64_t id) const;
    /// Presses the row's Retry button (as a click would); false when it is not shown.
    bool clickRetry(uint64_t id);

    /// For tests and status bars: the displayed state ("queued", "running", "done", ...), "" if unknown.
    QString stateText(uint64_t id) const;
    /// The displayed progress label, e.g. "step 7/20".
    QString labelText(uint64_t id) const;
    /// The error shown on the row ("" if none).
    QString errorText(uint64_t id) const;
    /// Number of rows.
    int count() const { return static_cast<int>(rows_.size()); }
    /// True while the empty-state hint is shown (no rows).
    bool emptyHintShown() const;

signals:
    /// The user pressed a row's cancel button.
    void cancelRequested(quint64 id);
    /// The user pressed a failed or cancelled row's Retry button.
    void retryRequested(quint64 id);

private:
    struct Row {
        QWidget* widget = nullptr;
        QLabel* title = nullptr;
        QProgressBar* progress = nullptr;
        QLabel* label = nullptr;
        QLabel* state = nullptr;
        QLabel* error = nullptr;
        QLabel* preview = nullptr;  ///< objectName "stepPreview": hidden until the first step preview
        QPushButton* cancel = nullptr;
        QPushButton* retry = nullptr;
        // ETA of the running phase: when its first counted progress arrived, and how far it was then.
        int64_t phase_total = -1;
        int64_t phase_done0 = 0;
        qint64 phase_t0 = 0;
        QString eta;
    };
    Row& row_for(uint64_t id);

    QVBoxLayout* rows_layout_ = nullptr;
    QLabel* empty_hint_ = nullptr;
    std::map<uint64_t, Row> rows_;
    std::function<qint64()> now_ms_;
};

/// "8 s", "2 min 5 s", "1 h 3 min": a remaining duration for the ETA.
QString format_duration(double seconds);

}  // namespace fl::studio
