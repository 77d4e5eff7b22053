#include "ui/export_dialog.h"

#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>
#include <filesystem>

#include "frameloom/media/render.h"
#include "ui/project_document.h"

namespace fl::studio {

namespace fs = std::filesystem;

ExportDialog::ExportDialog(ProjectDocument* document, core::JobQueue* jobs, QWidget* parent)
    : QDialog(parent), document_(document), jobs_(jobs) {
    setObjectName("exportDialog");
    setWindowTitle(tr("Export film"));
    path_ = new QLineEdit(this);
    path_->setObjectName("exportPath");
    auto* browse = new QPushButton(tr("Browse…"), this);
    format_ = new QComboBox(this);
    format_->setObjectName("exportFormat");
    format_->addItem(tr("MP4 — H.264 + AAC"));
    format_->addItem(tr("MOV — ProRes 422 + PCM (for editors)"));
    progress_ = new QProgressBar(this);
    progress_->setObjectName("exportProgress");
    progress_->setRange(0, 100);
    progress_->setValue(0);
    status_ = new QLabel(this);
    status_->setObjectName("exportStatus");
    status_->setWordWrap(true);
    export_ = new QPushButton(tr("Export"), this);
    export_->setObjectName("exportButton");
    export_->setDefault(true);
    cancel_ = new QPushButton(tr("Cancel export"), this);
    cancel_->setObjectName("exportCancel");
    close_ = new QPushButton(tr("Close"), this);

    auto* path_row = new QHBoxLayout;
    path_row->addWidget(path_, 1);
    path_row->addWidget(browse);
    auto* form = new QFormLayout;
    form->addRow(tr("File:"), path_row);
    form->addRow(tr("Format:"), format_);
    picture_ = new QLabel(this);
    form->addRow(tr("Picture:"), picture_);
    auto* buttons = new QHBoxLayout;
    buttons->addStretch(1);
    buttons->addWidget(export_);
    buttons->addWidget(cancel_);
    buttons->addWidget(close_);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(progress_);
    layout->addWidget(status_);
    layout->addLayout(buttons);

    refresh();
    connect(browse, &QPushButton::clicked, this, &ExportDialog::browse);
    connect(format_, &QComboBox::currentIndexChanged, this, &ExportDialog::setFormat);
    connect(export_, &QPushButton::clicked, this, [this] { startExport(); });
    connect(cancel_, &QPushButton::clicked, this, &ExportDialog::cancelExport);
    connect(close_, &QPushButton::clicked, this, &QDialog::close);
    update_controls();
    resize(560, sizeHint().height());
}

void ExportDialog::refresh() {
    const auto& seq = document_->project().sequence;
    picture_->setText(tr("%1×%2 at %3 fps, %4 (from the sequence)")
                          .arg(seq.width)
                          .arg(seq.height)
                          .arg(QString::fromStdString(core::to_string(seq.fps)))
                          .arg(QString::fromStdString(core::FrameTime{seq.duration(), seq.fps}.timecode())));
    const std::string key = document_->path().string() + "#" + std::to_string(document_->epoch());
    if (running_ || key == defaults_for_) return;
    defaults_for_ = key;
    // A default target beside the project (or in the home folder for an unsaved one).
    const fs::path base = document_->path().empty() ? fs::path(QDir::homePath().toStdString())
                                                    : document_->path().parent_path();
    const std::string stem =
        document_->path().empty() ? document_->project().name : document_->path().stem().string();
    path_->setText(QString::fromStdString((base / (stem + (format() == Mov ? ".mov" : ".mp4"))).string()));
}

QString ExportDialog::targetPath() const { return path_->text().trimmed(); }
ExportDialog::Format ExportDialog::format() const { return static_cast<Format>(format_->currentIndex()); }
QString ExportDialog::statusText() const { return status_->text(); }

void ExportDialog::setTargetPath(const QString& path) {
    path_->setText(path);
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix == "mov")
        setFormat(Mov);
    else if (suffix == "mp4")
        setFormat(Mp4);
}

void ExportDialog::setFormat(int format) {
    if (format_->currentIndex() != format) format_->setCurrentIndex(format);  // re-enters once
    const QString ext = format == Mov ? QStringLiteral("mov") : QStringLiteral("mp4");
    const QString path = targetPath();
    if (path.isEmpty()) return;
    const QFileInfo info(path);
    if (info.suffix().toLower() != ext)
        path_->setText(info.dir().filePath(info.completeBaseName() + "." + ext));
}

void ExportDialog::browse() {
    const QString filter = format() == Mov ? tr("QuickTime ProRes (*.mov)") : tr("MP4 film (*.mp4)");
    const QString path = QFileDialog::getSaveFileName(this, tr("Export film"), targetPath(), filter);
    if (!path.isEmpty()) setTargetPath(path);
}

quint64 ExportDialog::startExport() {
    if (running_) return 0;
    const fs::path target(targetPath().toStdString());
    auto refuse = [this](const QString& message) {
        status_->setText(message);
        emit exportFinished(false, message);
        return quint64{0};
    };
    if (target.empty()) return refuse(tr("choose a file to export to"));
    if (auto format = media::render_format_for(target); !format)
        return refuse(QString::fromStdString(format.message()));
    if (document_->project().sequence.duration() <= 0)
        return refuse(tr("the timeline is empty: put clips on it before exporting"));

    // A snapshot: the user may go on editing while the film renders.
    const core::Project project = document_->project();
    const fs::path base = document_->resolve_media(".").parent_path();
    job_id_ = jobs_->submit("Export " + target.filename().string(),
                            [project, base, target](core::JobContext& job) -> core::Result<void> {
                                media::RenderOptions options;
                                options.media_base = base;
                                options.progress = job.progress_fn();
                                options.cancel = job.cancel_fn();
                                return media::render_sequence(project, project.sequence, target, options);
                            });
    running_ = true;
    progress_->setValue(0);
    status_->setText(tr("Exporting…"));
    update_controls();
    return job_id_;
}

void ExportDialog::cancelExport() {
    if (running_) jobs_->cancel(job_id_);
}

void ExportDialog::onJobChanged(const core::JobStatus& status) {
    if (status.id != job_id_ || job_id_ == 0) return;
    progress_->setValue(static_cast<int>(status.fraction() * 100.0 + 0.5));
    if (status.state == core::JobState::Running || status.state == core::JobState::Queued) {
        if (!status.label.empty())
            status_->setText(tr("Exporting: %1").arg(QString::fromStdString(status.label)));
        return;
    }
    running_ = false;
    QString message;
    const bool ok = status.state == core::JobState::Done;
    if (ok) {
        progress_->setValue(100);
        message = tr("Exported %1").arg(targetPath());
    } else if (status.state == core::JobState::Cancelled) {
        message = tr("Export cancelled: no file was written");
    } else {
        message = tr("Export failed: %1").arg(QString::fromStdString(status.error));
    }
    status_->setText(message);
    update_controls();
    emit exportFinished(ok, message);
}

void ExportDialog::update_controls() {
    export_->setEnabled(!running_);
    path_->setEnabled(!running_);
    format_->setEnabled(!running_);
    cancel_->setEnabled(running_);
}

}  // namespace fl::studio
