#include "ui/main_window.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDateTime>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QKeySequence>
#include <QLabel>
#include <QListWidget>
#include <QMenuBar>
#include <QPushButton>
#include <QScrollArea>
#include <QSignalBlocker>
#include <QSplitter>
#include <QStatusBar>
#include <QVBoxLayout>

#include "frameloom/core/edit.h"
#include "frameloom/core/time.h"
#include "frameloom/inference/generator.h"
#include "frameloom/inference/model_store.h"
#include "ui/generation_service.h"
#include "ui/jobs_panel.h"
#include "ui/preview_player.h"
#include "ui/project_document.h"
#include "ui/shot_inspector.h"
#include "ui/timeline_view.h"

namespace fl::studio {

namespace fs = std::filesystem;

namespace {
QString qs(const std::string& s) { return QString::fromStdString(s); }
constexpr const char* kProjectFilter = "Frameloom project (*.flproj);;All files (*)";
}  // namespace

MainWindow::MainWindow(std::vector<fs::path> model_roots, QWidget* parent) : QMainWindow(parent) {
    setObjectName("mainWindow");
    document_ = new ProjectDocument(this);
    if (model_roots.empty()) model_roots = inference::ModelStore::default_roots();
    inference::ModelStore store(std::move(model_roots));
    // New shots start from the default model's own settings, so they generate as they are.
    if (auto card = store.find("default")) shot_defaults_ = inference::default_params(*card);
    document_->reset_new(make_starter_project(shot_defaults_));
    service_ = std::make_unique<GenerationService>(std::move(store));
    // The listener runs on the queue's worker thread: hand each snapshot to the GUI thread. Events
    // posted to this window are dropped if it is gone, and ~MainWindow joins the worker first anyway.
    jobs_ = std::make_unique<core::JobQueue>([this](const core::JobStatus& status) {
        QMetaObject::invokeMethod(
            this, [this, status] { onJobChanged(status); }, Qt::QueuedConnection);
    });

    create_layout();
    create_actions();
    connect(document_, &ProjectDocument::changed, this, &MainWindow::on_document_changed);
    connect(document_, &ProjectDocument::replaced, this, &MainWindow::on_document_replaced);
    on_document_replaced();
    on_document_changed();
    resize(1280, 800);
}

MainWindow::~MainWindow() {
    jobs_.reset();  // cancels and joins the worker before the service and widgets go
}

void MainWindow::create_layout() {
    // Left: shots and the takes of the selected shot.
    auto* left = new QWidget(this);
    auto* left_layout = new QVBoxLayout(left);
    left_layout->setContentsMargins(4, 4, 4, 4);
    left_layout->addWidget(new QLabel(tr("Shots"), left));
    shot_list_ = new QListWidget(left);
    shot_list_->setObjectName("shotList");
    left_layout->addWidget(shot_list_, 2);
    auto* new_shot = new QPushButton(tr("New shot"), left);
    new_shot->setObjectName("newShotButton");
    left_layout->addWidget(new_shot);
    left_layout->addWidget(new QLabel(tr("Takes"), left));
    take_list_ = new QListWidget(left);
    take_list_->setObjectName("takeList");
    take_list_->setToolTip(tr("Click to preview, double-click to choose the take"));
    left_layout->addWidget(take_list_, 1);

    // Centre: preview.
    auto* centre = new QWidget(this);
    auto* centre_layout = new QVBoxLayout(centre);
    centre_layout->setContentsMargins(4, 4, 4, 4);
    preview_ = new PreviewPlayer(centre);
    auto* sequence_button = new QPushButton(tr("Preview timeline"), centre);
    sequence_button->setObjectName("previewSequenceButton");
    auto* centre_top = new QHBoxLayout;
    centre_top->addWidget(new QLabel(tr("Preview"), centre), 1);
    centre_top->addWidget(sequence_button);
    centre_layout->addLayout(centre_top);
    centre_layout->addWidget(preview_, 1);

    // Right: inspector and Generate.
    auto* right = new QWidget(this);
    auto* right_layout = new QVBoxLayout(right);
    right_layout->setContentsMargins(4, 4, 4, 4);
    inspector_ = new ShotInspector(document_, right);
    auto* inspector_scroll = new QScrollArea(right);
    inspector_scroll->setWidgetResizable(true);
    inspector_scroll->setWidget(inspector_);
    right_layout->addWidget(inspector_scroll, 1);
    generate_button_ = new QPushButton(tr("Generate"), right);
    generate_button_->setObjectName("generateButton");
    right_layout->addWidget(generate_button_);

    auto* top = new QSplitter(Qt::Horizontal, this);
    top->addWidget(left);
    top->addWidget(centre);
    top->addWidget(right);
    top->setStretchFactor(0, 1);
    top->setStretchFactor(1, 3);
    top->setStretchFactor(2, 1);
    top->setSizes({240, 640, 320});

    // Bottom: timeline and jobs.
    timeline_ = new TimelineView(document_, this);
    timeline_scroll_ = new QScrollArea(this);
    timeline_scroll_->setObjectName("timelineScroll");
    timeline_scroll_->setWidgetResizable(true);
    timeline_scroll_->setWidget(timeline_);
    jobs_panel_ = new JobsPanel(this);
    auto* bottom = new QSplitter(Qt::Horizontal, this);
    bottom->addWidget(timeline_scroll_);
    bottom->addWidget(jobs_panel_);
    bottom->setStretchFactor(0, 3);
    bottom->setStretchFactor(1, 1);
    bottom->setSizes({900, 340});
    jobs_panel_->setMinimumWidth(240);
    timeline_scroll_->setMinimumHeight(TimelineView::kRulerHeight + 2 * TimelineView::kTrackHeight + 24);

    auto* main = new QSplitter(Qt::Vertical, this);
    main->addWidget(top);
    main->addWidget(bottom);
    main->setStretchFactor(0, 3);
    main->setStretchFactor(1, 1);
    main->setSizes({560, 220});
    setCentralWidget(main);
    statusBar();

    connect(new_shot, &QPushButton::clicked, this, &MainWindow::newShot);
    connect(generate_button_, &QPushButton::clicked, this, [this] { generate(); });
    connect(sequence_button, &QPushButton::clicked, this, &MainWindow::previewSequence);
    connect(shot_list_, &QListWidget::currentItemChanged, this, [this](QListWidgetItem* item) {
        if (!rebuilding_) selectShot(item ? item->data(Qt::UserRole).toString() : QString());
    });
    connect(shot_list_, &QListWidget::itemChanged, this, [this](QListWidgetItem* item) {
        if (rebuilding_) return;
        const std::string id = item->data(Qt::UserRole).toString().toStdString();
        const core::Shot* shot = document_->project().find_shot(id);
        const std::string name = item->text().trimmed().toStdString();
        if (!shot || name.empty() || name == shot->name) return rebuild_shot_list();
        auto renamed = document_->push(core::make_rename_shot(id, name));
        if (!renamed) show_error(tr("Cannot rename shot"), qs(renamed.message()));
    });
    connect(take_list_, &QListWidget::itemClicked, this,
            [this](QListWidgetItem* item) { previewTake(item->data(Qt::UserRole).toString()); });
    connect(take_list_, &QListWidget::itemDoubleClicked, this, [this](QListWidgetItem* item) {
        auto selected = document_->push(
            core::make_select_take(current_shot_, item->data(Qt::UserRole).toString().toStdString()));
        if (!selected) show_error(tr("Cannot choose take"), qs(selected.message()));
    });
    connect(inspector_, &ShotInspector::editFailed, this,
            [this](const QString& message) { statusBar()->showMessage(message, 5000); });
    connect(timeline_, &TimelineView::editFailed, this,
            [this](const QString& message) { statusBar()->showMessage(message, 5000); });
    connect(timeline_, &TimelineView::playheadMoved, this, [this](qint64 frame) {
        if (!preview_->isSequence()) previewSequence();
        preview_->seek(frame);
    });
    connect(timeline_, &TimelineView::clipSelected, this,
            [this](const QString& track_id, const QString& clip_id) {
                const core::Track* track = document_->project().sequence.find_track(track_id.toStdString());
                if (!track) return;
                const int index = track->index_of(clip_id.toStdString());
                if (index < 0) return;
                const std::string& shot_id = track->clips[static_cast<size_t>(index)].source.shot_id;
                if (!shot_id.empty() && document_->project().find_shot(shot_id)) selectShot(qs(shot_id));
            });
    connect(preview_, &PreviewPlayer::frameChanged, this, [this](qint64 frame) {
        if (preview_->isSequence()) timeline_->setPlayhead(frame);
    });
    connect(jobs_panel_, &JobsPanel::cancelRequested, this, &MainWindow::cancelJob);
}

void MainWindow::create_actions() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    auto add = [this](QMenu* menu, const QString& text, const char* name, const QKeySequence& keys) {
        QAction* action = menu->addAction(text);
        action->setObjectName(QString::fromLatin1(name));
        if (!keys.isEmpty()) action->setShortcut(keys);
        return action;
    };
    connect(add(file, tr("&New"), "actionNew", QKeySequence::New), &QAction::triggered, this,
            &MainWindow::fileNew);
    connect(add(file, tr("&Open…"), "actionOpen", QKeySequence::Open), &QAction::triggered, this,
            &MainWindow::fileOpen);
    connect(add(file, tr("&Save"), "actionSave", QKeySequence::Save), &QAction::triggered, this,
            &MainWindow::saveProject);
    connect(add(file, tr("Save &As…"), "actionSaveAs", QKeySequence::SaveAs), &QAction::triggered, this,
            [this] { saveProjectAs(); });
    file->addSeparator();
    QAction* quit = add(file, tr("&Quit"), "actionQuit", QKeySequence::Quit);
    quit->setMenuRole(QAction::QuitRole);
    connect(quit, &QAction::triggered, this, &QWidget::close);

    QMenu* edit = menuBar()->addMenu(tr("&Edit"));
    undo_action_ = add(edit, tr("&Undo"), "actionUndo", QKeySequence::Undo);
    redo_action_ = add(edit, tr("&Redo"), "actionRedo", QKeySequence::Redo);
    connect(undo_action_, &QAction::triggered, this, [this] { document_->undo(); });
    connect(redo_action_, &QAction::triggered, this, [this] {
        auto redone = document_->redo();
        if (!redone) show_error(tr("Cannot redo"), qs(redone.message()));
    });

    QMenu* shot = menuBar()->addMenu(tr("&Shot"));
    connect(add(shot, tr("&New shot"), "actionNewShot", QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_N)),
            &QAction::triggered, this, &MainWindow::newShot);
    remove_shot_action_ = add(shot, tr("&Remove shot"), "actionRemoveShot", QKeySequence());
    connect(remove_shot_action_, &QAction::triggered, this, &MainWindow::removeShot);
    shot->addSeparator();
    generate_action_ = add(shot, tr("&Generate"), "actionGenerate", QKeySequence(Qt::CTRL | Qt::Key_Return));
    connect(generate_action_, &QAction::triggered, this, [this] { generate(); });

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    QAction* about = add(help, tr("&About Frameloom Studio"), "actionAbout", QKeySequence());
    about->setMenuRole(QAction::AboutRole);
    connect(about, &QAction::triggered, this, [this] {
        QMessageBox::about(
            this, tr("About Frameloom Studio"),
            tr("<b>Frameloom Studio</b> %1<br>Short films from text, generated locally with video "
               "diffusion models.")
                .arg(QApplication::applicationVersion()));
    });
}

QString MainWindow::currentShot() const { return qs(current_shot_); }

// ---- document state → widgets ----

void MainWindow::on_document_replaced() {
    for (auto& [id, pending] : pending_) jobs_->cancel(id);  // results of the old project are dropped
    preview_->clear();
    current_shot_.clear();
    const auto& shots = document_->project().shots;
    if (!shots.empty()) current_shot_ = shots.front().id;
    inspector_->setShot(current_shot_);
}

void MainWindow::on_document_changed() {
    const core::Project& project = document_->project();
    if (!project.find_shot(current_shot_)) {
        current_shot_ = project.shots.empty() ? std::string() : project.shots.back().id;
        inspector_->setShot(current_shot_);
    }
    rebuild_shot_list();
    rebuild_take_list();

    const auto& stack = document_->undo_stack();
    undo_action_->setEnabled(stack.can_undo());
    undo_action_->setText(stack.can_undo() ? tr("&Undo %1").arg(qs(stack.undo_text())) : tr("&Undo"));
    redo_action_->setEnabled(stack.can_redo());
    redo_action_->setText(stack.can_redo() ? tr("&Redo %1").arg(qs(stack.redo_text())) : tr("&Redo"));
    const bool has_shot = !current_shot_.empty();
    generate_action_->setEnabled(has_shot);
    generate_button_->setEnabled(has_shot);
    remove_shot_action_->setEnabled(has_shot);

    QString title = qs(project.name);
    if (!document_->path().empty())
        title += QStringLiteral(" (%1)").arg(qs(document_->path().filename().string()));
    setWindowTitle(tr("%1[*] — Frameloom Studio").arg(title));
    setWindowModified(document_->is_modified());

    if (preview_->isSequence()) {
        preview_->showSequence(project,
                               document_->path().empty() ? fs::path() : document_->path().parent_path());
    }
}

void MainWindow::rebuild_shot_list() {
    rebuilding_ = true;
    QSignalBlocker block(shot_list_);
    shot_list_->clear();
    for (const core::Shot& shot : document_->project().shots) {
        auto* item = new QListWidgetItem(qs(shot.name.empty() ? shot.id : shot.name), shot_list_);
        item->setData(Qt::UserRole, qs(shot.id));
        item->setFlags(item->flags() | Qt::ItemIsEditable);
        item->setToolTip(tr("%n take(s)", nullptr, static_cast<int>(shot.takes.size())));
        if (shot.id == current_shot_) shot_list_->setCurrentItem(item);
    }
    rebuilding_ = false;
}

void MainWindow::rebuild_take_list() {
    QSignalBlocker block(take_list_);
    take_list_->clear();
    const core::Shot* shot = document_->project().find_shot(current_shot_);
    if (!shot) return;
    for (const core::Take& take : shot->takes) {
        auto* item = new QListWidgetItem(
            tr("%1 · seed %2 · %3 steps").arg(qs(take.id)).arg(take.params.seed).arg(take.params.steps),
            take_list_);
        item->setData(Qt::UserRole, qs(take.id));
        item->setToolTip(tr("%1\n%2\n%3").arg(qs(take.file), qs(take.created), qs(take.params.prompt)));
        if (take.id == shot->selected_take) {
            QFont bold = item->font();
            bold.setBold(true);
            item->setFont(bold);
            take_list_->setCurrentItem(item);
        }
    }
}

void MainWindow::selectShot(const QString& shot_id) {
    const std::string id = shot_id.toStdString();
    if (id == current_shot_) return;
    current_shot_ = document_->project().find_shot(id) ? id : std::string();
    inspector_->setShot(current_shot_);
    on_document_changed();
}

void MainWindow::previewTake(const QString& take_id) {
    const core::Shot* shot = document_->project().find_shot(current_shot_);
    const core::Take* take = shot ? shot->find_take(take_id.toStdString()) : nullptr;
    if (!take) return;
    preview_->showFile(document_->resolve_media(take->file));
}

void MainWindow::previewSequence() {
    preview_->showSequence(document_->project(),
                           document_->path().empty() ? fs::path() : document_->path().parent_path());
    preview_->seek(timeline_->playhead());
}

// ---- file ----

void MainWindow::show_error(const QString& title, const QString& message) {
    last_error_ = message;
    statusBar()->showMessage(message, 8000);
    if (interactive_) QMessageBox::critical(this, title, message);
}

bool MainWindow::maybe_save() {
    if (!document_->is_modified()) return true;
    QMessageBox::StandardButton answer = unsaved_answer_;
    if (interactive_) {
        answer = QMessageBox::warning(
            this, tr("Unsaved changes"),
            tr("Save the changes to \"%1\" first?").arg(qs(document_->project().name)),
            QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel, QMessageBox::Save);
    }
    if (answer == QMessageBox::Save) return saveProject();
    return answer == QMessageBox::Discard;
}

void MainWindow::fileNew() {
    if (!maybe_save()) return;
    document_->reset_new(make_starter_project(shot_defaults_));
}

void MainWindow::fileOpen() {
    if (!maybe_save()) return;
    const QString start =
        document_->path().empty() ? QString() : qs(document_->path().parent_path().string());
    const QString path = QFileDialog::getOpenFileName(this, tr("Open project"), start, tr(kProjectFilter));
    if (!path.isEmpty()) openProject(path);
}

bool MainWindow::openProject(const QString& path) {
    auto opened = document_->open(fs::path(path.toStdString()));
    if (!opened) {
        show_error(tr("Cannot open project"), qs(opened.message()));
        return false;
    }
    previewSequence();
    statusBar()->showMessage(tr("Opened %1").arg(path), 3000);
    return true;
}

bool MainWindow::saveProject() {
    if (document_->path().empty()) return saveProjectAs();
    auto saved = document_->save();
    if (!saved) {
        show_error(tr("Cannot save project"), qs(saved.message()));
        return false;
    }
    statusBar()->showMessage(tr("Saved %1").arg(qs(document_->path().string())), 3000);
    return true;
}

bool MainWindow::saveProjectAs(const QString& path) {
    QString target = path;
    if (target.isEmpty()) {
        target = QFileDialog::getSaveFileName(this, tr("Save project as"), qs(document_->path().string()),
                                              tr(kProjectFilter));
        if (target.isEmpty()) return false;
        if (QFileInfo(target).suffix().isEmpty()) target += QStringLiteral(".flproj");
    }
    auto saved = document_->save_as(fs::path(target.toStdString()));
    if (!saved) {
        show_error(tr("Cannot save project"), qs(saved.message()));
        return false;
    }
    statusBar()->showMessage(tr("Saved %1").arg(target), 3000);
    return true;
}

void MainWindow::closeEvent(QCloseEvent* event) {
    if (!maybe_save()) {
        event->ignore();
        return;
    }
    preview_->pause();
    jobs_->cancel_all();
    event->accept();
}

// ---- shots ----

void MainWindow::newShot() {
    const core::Project& project = document_->project();
    core::Shot shot;  // id left empty: the command assigns a fresh one
    shot.name = tr("Shot %1").arg(project.shots.size() + 1).toStdString();
    shot.params = shot_defaults_;  // the default model's settings: ready to generate once it has a prompt
    auto added = document_->push(core::make_add_shot(std::move(shot)));
    if (!added) {
        show_error(tr("Cannot add shot"), qs(added.message()));
        return;
    }
    selectShot(qs(document_->project().shots.back().id));
}

void MainWindow::removeShot() {
    if (current_shot_.empty()) return;
    auto removed = document_->push(core::make_remove_shot(current_shot_));
    if (!removed) show_error(tr("Cannot remove shot"), qs(removed.message()));
}

// ---- generation ----

quint64 MainWindow::generate() {
    const core::Shot* shot = document_->project().find_shot(current_shot_);
    if (!shot) {
        show_error(tr("Cannot generate"), tr("select a shot to generate"));
        return 0;
    }
    auto valid = shot->params.validate();
    if (!valid) {
        show_error(tr("Cannot generate"), qs(valid.message()));
        return 0;
    }
    const QString stamp = QDateTime::currentDateTimeUtc().toString(QStringLiteral("yyyyMMdd-HHmmss"));
    const fs::path target = document_->media_dir() / (shot->id + "-" + stamp.toStdString() + "-" +
                                                      std::to_string(++generation_counter_) + ".mp4");

    auto result = std::make_shared<GeneratedTake>();
    GenerationSpec spec{shot->params, target, document_->resolve_media(".").parent_path()};
    GenerationService* service = service_.get();
    const std::string title = "Generate " + (shot->name.empty() ? shot->id : shot->name);
    const uint64_t id =
        jobs_->submit(title, [service, spec, result](core::JobContext& job) -> core::Result<void> {
            auto generated = service->run(spec, job);
            if (!generated) return generated.error();
            *result = std::move(generated).value();
            return core::ok();
        });
    pending_[id] = PendingGeneration{result, shot->id, document_->epoch()};
    return id;
}

void MainWindow::cancelJob(quint64 id) { jobs_->cancel(id); }

void MainWindow::onJobChanged(const core::JobStatus& status) {
    jobs_panel_->updateJob(status);
    const bool finished = status.state == core::JobState::Done || status.state == core::JobState::Failed ||
                          status.state == core::JobState::Cancelled;
    if (!finished) return;
    auto it = pending_.find(status.id);
    if (it == pending_.end()) return;
    const PendingGeneration pending = it->second;
    pending_.erase(it);
    bool applied = false;
    if (status.state == core::JobState::Done) {
        if (pending.epoch != document_->epoch()) {
            jobs_panel_->setJobError(status.id, tr("the project was closed before the take was ready"));
        } else {
            applied = apply_generation(status.id, pending);
        }
    }
    emit generationFinished(status.id, applied);
}

bool MainWindow::apply_generation(uint64_t job_id, const PendingGeneration& pending) {
    core::Take take = pending.result->take;
    const fs::path absolute(take.file);
    take.id.clear();  // the command assigns a fresh id
    take.file = document_->media_reference(absolute);
    // Clip lengths are counted at the sequence's rate; the take may have been made at another.
    const core::FrameRate sequence_rate = document_->project().sequence.fps;
    int64_t frames = pending.result->frame_count;
    if (take.params.fps != sequence_rate)
        frames = std::max<int64_t>(core::rescale_frames(frames, take.params.fps, sequence_rate), 1);
    auto added =
        document_->push(core::make_add_take_to_timeline(document_->project(), pending.shot_id, take, frames));
    if (!added) {
        jobs_panel_->setJobError(job_id, qs(added.message()));
        return false;
    }
    if (pending.shot_id == current_shot_) preview_->showFile(absolute);
    return true;
}

}  // namespace fl::studio
