#pragma once
/// The list of background jobs: title, progress bar, step label, state and a cancel button per job.

#include <QString>
#include <QWidget>
#include <cstdint>
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
    /// Removes every row.
    void clear();

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

private:
    struct Row {
        QWidget* widget = nullptr;
        QLabel* title = nullptr;
        QProgressBar* progress = nullptr;
        QLabel* label = nullptr;
        QLabel* state = nullptr;
        QLabel* error = nullptr;
        QPushButton* cancel = nullptr;
    };
    Row& row_for(uint64_t id);

    QVBoxLayout* rows_layout_ = nullptr;
    QLabel* empty_hint_ = nullptr;
    std::map<uint64_t, Row> rows_;
};

}  // namespace fl::studio
