#include "ui/jobs_panel.h"

#include <QGridLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QVBoxLayout>

namespace fl::studio {

JobsPanel::JobsPanel(QWidget* parent) : QWidget(parent) {
    setObjectName("jobsPanel");
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
    row.cancel = new QPushButton(tr("Cancel"), row.widget);
    row.cancel->setObjectName("cancel");
    grid->addWidget(row.title, 0, 0);
    grid->addWidget(row.state, 0, 1, Qt::AlignRight);
    grid->addWidget(row.progress, 1, 0);
    grid->addWidget(row.cancel, 1, 1);
    grid->addWidget(row.label, 2, 0, 1, 2);
    grid->addWidget(row.error, 3, 0, 1, 2);
    grid->setColumnStretch(0, 1);
    connect(row.cancel, &QPushButton::clicked, this, [this, id] { emit cancelRequested(id); });
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
    // A finished job's last step label ("encoding 16/16") would read as still running.
    row.label->setText(status.state == core::JobState::Done ? QString() : QString::fromStdString(status.label));
    if (status.state == core::JobState::Failed && !status.error.empty()) {
        row.error->setText(QString::fromStdString(status.error));
        row.error->show();
    }
    row.cancel->setEnabled(!finished);
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
