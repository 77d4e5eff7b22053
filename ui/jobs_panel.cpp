#include "ui/jobs_panel.h"

#include <QElapsedTimer>
#include <QGridLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QVBoxLayout>

namespace fl::studio {

namespace {
/// Height of a job row's step preview thumbnail, in pixels.
constexpr int kPreviewHeight = 48;
}  // namespace

QString format_duration(double seconds) {
    const auto s = static_cast<long long>(seconds + 0.5);
    if (s < 1) return QObject::tr("<1 s");
    if (s < 60) return QObject::tr("%1 s").arg(s);
    if (s < 3600) return QObject::tr("%1 min %2 s").arg(s / 60).arg(s % 60);
    return QObject::tr("%1 h %2 min").arg(s / 3600).arg((s % 3600) / 60);
}

JobsPanel::JobsPanel(QWidget* parent) : QWidget(parent) {
    setObjectName("jobsPanel");
    now_ms_ = [timer = std::make_shared<QElapsedTimer>()] {
        if (!timer->isValid()) timer->start();
        return timer->elapsed();
    };
    auto* outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    auto* heading = new QLabel(tr("Jobs"), this);
    heading->setObjectName("jobsHeading");
    QFont bold = heading->font();
    bold.setBold(true);
    heading->setFont(bold);
    heading->setContentsMargins(4, 4, 4, 0);
    outer->addWidget(heading);
    auto* scroll = new QScrollArea(this);
    scroll->setWidgetResizable(true);
    auto* inner = new QWidget(scroll);
    rows_layout_ = new QVBoxLayout(inner);
    rows_layout_->setContentsMargins(4, 4, 4, 4);
    empty_hint_ = new QLabel(tr("Generated shots appear here while they run"), inner);
    empty_hint_->setObjectName("jobsEmptyHint");
    empty_hint_->setWordWrap(true);
    empty_hint_->setEnabled(false);  // drawn greyed out: a hint, not content
    rows_layout_->addWidget(empty_hint_);
    rows_layout_->addStretch(1);
    scroll->setWidget(inner);
    outer->addWidget(scroll);
}

JobsPanel::Row& JobsPanel::row_for(uint64_t id) {
    auto it = rows_.find(id);
    if (it != rows_.end()) return it->second;

    Row row;
    row.widget = new QWidget(this);
    row.widget->setObjectName(QStringLiteral("jobRow-%1").arg(id));
    auto* grid = new QGridLayout(row.widget);
    grid->setContentsMargins(2, 2, 2, 2);
    row.title = new QLabel(row.widget);
    row.title->setObjectName("title");
    row.state = new QLabel(row.widget);
    row.state->setObjectName("state");
    row.progress = new QProgressBar(row.widget);
    row.progress->setObjectName("progress");
    row.progress->setRange(0, 1000);
    row.progress->setValue(0);
    row.progress->setTextVisible(false);
    row.label = new QLabel(row.widget);
    row.label->setObjectName("label");
    row.error = new QLabel(row.widget);
    row.error->setObjectName("error");
    row.error->setWordWrap(true);
    row.error->setStyleSheet("color: #c0392b;");
    row.error->hide();
    row.preview = new QLabel(row.widget);
    row.preview->setObjectName("stepPreview");
    row.preview->setFixedHeight(kPreviewHeight);
    row.preview->hide();
    row.cancel = new QPushButton(tr("Cancel"), row.widget);
    row.cancel->setObjectName("cancel");
    row.retry = new QPushButton(tr("Retry"), row.widget);
    row.retry->setObjectName("retry");
    row.retry->setToolTip(tr("Queue this generation again with the same settings and seed"));
    row.retry->hide();
    grid->addWidget(row.title, 0, 0);
    grid->addWidget(row.state, 0, 1, Qt::AlignRight);
    grid->addWidget(row.progress, 1, 0);
    grid->addWidget(row.cancel, 1, 1);
    grid->addWidget(row.retry, 1, 2);
    grid->addWidget(row.label, 2, 0, 1, 2);
    grid->addWidget(row.error, 3, 0, 1, 2);
    grid->addWidget(row.preview, 0, 3, 3, 1, Qt::AlignTop);
    grid->setColumnStretch(0, 1);
    connect(row.cancel, &QPushButton::clicked, this, [this, id] { emit cancelRequested(id); });
    connect(row.retry, &QPushButton::clicked, this, [this, id] { emit retryRequested(id); });
    rows_layout_->insertWidget(rows_layout_->count() - 1, row.widget);
    empty_hint_->hide();
    return rows_.emplace(id, row).first->second;
}

void JobsPanel::updateJob(const core::JobStatus& status) {
    Row& row = row_for(status.id);
    row.title->setText(QString::fromStdString(status.title));
    row.state->setText(QString::fromUtf8(core::to_string(status.state)));
    const bool finished = status.state == core::JobState::Done || status.state == core::JobState::Failed ||
                          status.state == core::JobState::Cancelled;
    if (status.total > 0) {
        row.progress->setRange(0, 1000);
        row.progress->setValue(static_cast<int>(status.fraction() * 1000.0 + 0.5));
    } else if (status.state == core::JobState::Running) {
        row.progress->setRange(0, 0);  // busy indicator until the first counted step
    }
    if (finished) {
        row.progress->setRange(0, 1000);
        if (status.state == core::JobState::Done) row.progress->setValue(1000);
    }
    // ETA per phase (loading, sampling steps, encoding frames count differently): measured from the
    // phase's first counted report, so the model's load time does not inflate the sampling estimate.
    row.eta.clear();
    if (status.state == core::JobState::Running && status.total > 0) {
        const qint64 now = now_ms_();
        if (status.total != row.phase_total || status.done < row.phase_done0) {
            row.phase_total = status.total;
            row.phase_done0 = status.done;
            row.phase_t0 = now;
        } else if (status.done > row.phase_done0 && status.done < status.total) {
            const double per_step = static_cast<double>(now - row.phase_t0) /
                                    static_cast<double>(status.done - row.phase_done0) / 1000.0;
            row.eta = tr("about %1 left")
                          .arg(format_duration(per_step * static_cast<double>(status.total - status.done)));
        }
    } else if (status.state != core::JobState::Running || status.total <= 0) {
        row.phase_total = -1;
    }
    // A finished job's last step label ("encoding 16/16") would read as still running.
    QString label = status.state == core::JobState::Done ? QString() : QString::fromStdString(status.label);
    if (finished) label.clear();
    if (status.state == core::JobState::Cancelled) label = tr("cancelled");
    if (!row.eta.isEmpty()) label += QStringLiteral(" · ") + row.eta;
    row.label->setText(label);
    if (status.state == core::JobState::Failed && !status.error.empty()) {
        row.error->setText(QString::fromStdString(status.error));
        row.error->show();
    }
    row.cancel->setEnabled(!finished);
    row.cancel->setVisible(!finished || row.retry->isHidden());
}

void JobsPanel::setPreview(uint64_t id, const QImage& image, int step, int steps) {
    auto it = rows_.find(id);
    if (image.isNull() || it == rows_.end()) return;  // a late preview of a row that was cleared
    Row& row = it->second;
    // Small model frames (64x64) are scaled up with hard pixels; large ones are filtered down.
    const bool shrinking = image.height() > kPreviewHeight;
    row.preview->setPixmap(QPixmap::fromImage(
        image.scaledToHeight(kPreviewHeight, shrinking ? Qt::SmoothTransformation : Qt::FastTransformation)));
    row.preview->setToolTip(
        tr("Step %1/%2: the model's current estimate of the middle frame").arg(step).arg(steps));
    row.preview->show();
}

QPixmap JobsPanel::previewPixmap(uint64_t id) const {
    auto it = rows_.find(id);
    return it == rows_.end() ? QPixmap() : it->second.preview->pixmap();
}

void JobsPanel::setRetryable(uint64_t id, bool retryable) {
    auto it = rows_.find(id);
    if (it == rows_.end()) return;
    it->second.retry->setVisible(retryable);
    it->second.retry->setEnabled(retryable);
    it->second.cancel->setVisible(!retryable);
}

QString JobsPanel::etaText(uint64_t id) const {
    auto it = rows_.find(id);
    return it == rows_.end() ? QString() : it->second.eta;
}

bool JobsPanel::canRetry(uint64_t id) const {
    auto it = rows_.find(id);
    return it != rows_.end() && !it->second.retry->isHidden() && it->second.retry->isEnabled();
}

bool JobsPanel::clickRetry(uint64_t id) {
    if (!canRetry(id)) return false;
    rows_.at(id).retry->click();
    return true;
}

void JobsPanel::setJobError(uint64_t id, const QString& message) {
    Row& row = row_for(id);
    row.state->setText(QString::fromUtf8(core::to_string(core::JobState::Failed)));
    row.error->setText(message);
    row.error->show();
    row.cancel->setEnabled(false);
}

void JobsPanel::clear() {
    for (auto& [id, row] : rows_) delete row.widget;
    rows_.clear();
    empty_hint_->show();
}

bool JobsPanel::emptyHintShown() const { return !empty_hint_->isHidden(); }

QString JobsPanel::stateText(uint64_t id) const {
    auto it = rows_.find(id);
    return it == rows_.end() ? QString() : it->second.state->text();
}

QString JobsPanel::labelText(uint64_t id) const {
    auto it = rows_.find(id);
    return it == rows_.end() ? QString() : it->second.label->text();
}

QString JobsPanel::errorText(uint64_t id) const {
    auto it = rows_.find(id);
    return it == rows_.end() ? QString() : it->second.error->text();
}

}  // namespace fl::studio
