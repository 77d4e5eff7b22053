#include "ui/main_window.h"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
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
#include <QRandomGenerator>
#include <QScrollArea>
#include <QShortcut>
#include <QSignalBlocker>
#include <QSplitter>
#include <QStatusBar>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>
#include <cstring>
#include <system_error>

#include "frameloom/consistency/continuity.h"
#include "frameloom/core/edit.h"
#include "frameloom/core/media_paths.h"
#include "frameloom/core/time.h"
#include "frameloom/inference/generator.h"
#include "frameloom/inference/model_store.h"
#include "frameloom/media/clip_frames.h"
#include "frameloom/media/conditioning.h"
#include "frameloom/media/decode.h"
#include "frameloom/media/encode.h"
#include "frameloom/media/probe.h"
#include "ui/export_dialog.h"
#include "ui/generation_service.h"
#include "ui/jobs_panel.h"
#include "ui/preview_player.h"
#include "ui/project_document.h"
#include "ui/shot_inspector.h"
#include "ui/storyboard_panel.h"
#include "ui/take_scores.h"
#include "ui/takes_strip.h"
#include "ui/thumbnail_cache.h"
#include "ui/timeline_view.h"

namespace fl::studio {

namespace fs = std::filesystem;

namespace {
QString qs(const std::string& s) { return QString::fromStdString(s); }
constexpr const char* kProjectFilter = "Frameloom project (*.flproj);;All files (*)";
constexpr int kAutosaveMs = 60 * 1000;

/// A fresh seed below 2^53, so it survives any JSON reader as an exact integer.
uint64_t random_seed() { return QRandomGenerator::global()->generate64() & ((quint64{1} << 53) - 1); }
}  // namespace

MainWindow::MainWindow(std::vector<fs::path> model_roots, QWidget* parent)
    : QMainWindow(parent), thumbnails_(std::make_unique<ThumbnailCache>()) {
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
    document_->set_queued_provider([this] { return unfinished_generations(); });
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
    autosave_timer_ = new QTimer(this);
    autosave_timer_->setObjectName("autosaveTimer");
    connect(autosave_timer_, &QTimer::timeout, this, [this] { autosaveNow(); });
    autosave_timer_->start(kAutosaveMs);
    resize(1280, 800);
}

MainWindow::~MainWindow() {
    jobs_.reset();  // cancels and joins the worker before the service and widgets go
}

void MainWindow::create_layout() {
    // Left: the storyboard of shot cards.
    auto* left = new QWidget(this);
    auto* left_layout = new QVBoxLayout(left);
    left_layout->setContentsMargins(4, 4, 4, 4);
    storyboard_ = new StoryboardPanel(thumbnails_.get(), left);
    left_layout->addWidget(storyboard_, 1);

    // Centre: preview, and the takes of the selected shot side by side under it.
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
    centre_layout->addWidget(preview_, 3);
    takes_strip_ = new TakesStrip(thumbnails_.get(), centre);
    centre_layout->addWidget(takes_strip_, 1);

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
    top->setSizes({280, 620, 320});

    // Bottom: timeline and jobs.
    timeline_ = new TimelineView(document_, this);
    timeline_scroll_ = new QScrollArea(this);
    timeline_scroll_->setObjectName("timelineScroll");
    timeline_scroll_->setWidgetResizable(true);
    timeline_scroll_->setWidget(timeline_);
    // Above it: tracks, music, zoom and snapping.
    auto* timeline_panel = new QWidget(this);
    auto* timeline_layout = new QVBoxLayout(timeline_panel);
    timeline_layout->setContentsMargins(0, 0, 0, 0);
    timeline_layout->setSpacing(2);
    auto* tools = new QHBoxLayout;
    auto tool = [timeline_panel, tools](const QString& text, const char* name, const QString& tip) {
        auto* button = new QToolButton(timeline_panel);
        button->setText(text);
        button->setObjectName(QString::fromLatin1(name));
        button->setToolTip(tip);
        tools->addWidget(button);
        return button;
    };
    connect(
        tool(tr("+ Video track"), "addVideoTrackButton", tr("Add a video track (drawn over the ones above)")),
        &QToolButton::clicked, timeline_, &TimelineView::addVideoTrack);
    connect(tool(tr("+ Audio track"), "addAudioTrackButton", tr("Add an audio track")), &QToolButton::clicked,
            timeline_, &TimelineView::addAudioTrack);
    connect(
        tool(tr("Add music…"), "addMusicButton", tr("Put an audio file on an audio track at the playhead")),
        &QToolButton::clicked, timeline_, &TimelineView::promptAddMusic);
    tools->addStretch(1);
    auto* snap = new QCheckBox(tr("Snap"), timeline_panel);
    snap->setObjectName("snapCheck");
    snap->setChecked(timeline_->snapping());
    snap->setToolTip(tr("Snap to clip edges and the playhead"));
    connect(snap, &QCheckBox::toggled, timeline_, &TimelineView::setSnapping);
    tools->addWidget(snap);
    connect(tool(tr("−"), "zoomOutButton", tr("Zoom out (Ctrl+wheel, -)")), &QToolButton::clicked, timeline_,
            &TimelineView::zoomOut);
    connect(tool(tr("+"), "zoomInButton", tr("Zoom in (Ctrl+wheel, +)")), &QToolButton::clicked, timeline_,
            &TimelineView::zoomIn);
    timeline_layout->addLayout(tools);
    timeline_layout->addWidget(timeline_scroll_, 1);
    jobs_panel_ = new JobsPanel(this);
    auto* bottom = new QSplitter(Qt::Horizontal, this);
    bottom->addWidget(timeline_panel);
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

    connect(generate_button_, &QPushButton::clicked, this, [this] { generate(); });
    connect(sequence_button, &QPushButton::clicked, this, &MainWindow::previewSequence);
    connect(storyboard_, &StoryboardPanel::addRequested, this, &MainWindow::newShot);
    connect(storyboard_, &StoryboardPanel::duplicateRequested, this, &MainWindow::duplicateShot);
    connect(storyboard_, &StoryboardPanel::deleteRequested, this, &MainWindow::removeShot);
    connect(storyboard_, &StoryboardPanel::shotSelected, this, &MainWindow::selectShot);
    connect(storyboard_, &StoryboardPanel::shotMoveRequested, this, &MainWindow::moveShot);
    connect(storyboard_, &StoryboardPanel::shotRenamed, this,
            [this](const QString& shot_id, const QString& text) {
                const std::string id = shot_id.toStdString();
                const core::Shot* shot = document_->project().find_shot(id);
                const std::string name = text.toStdString();
                if (!shot || name.empty() || name == shot->name) return rebuild_shot_list();
                auto renamed = document_->push(core::make_rename_shot(id, name));
                if (!renamed) show_error(tr("Cannot rename shot"), qs(renamed.message()));
            });
    connect(takes_strip_, &TakesStrip::takeClicked, this, &MainWindow::previewTake);
    connect(takes_strip_, &TakesStrip::pickRequested, this, &MainWindow::pickTake);
    connect(takes_strip_, &TakesStrip::extendRequested, this, &MainWindow::extendTake);
    connect(takes_strip_, &TakesStrip::remixRequested, this, &MainWindow::remixTake);
    connect(takes_strip_, &TakesStrip::lastFrameToNextRequested, this, &MainWindow::useLastFrameForNextShot);
    connect(takes_strip_, &TakesStrip::generateVariationsRequested, this, &MainWindow::generateVariations);
    connect(takes_strip_, &TakesStrip::removeRequested, this, &MainWindow::removeTake);
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
    // Transport keys while the timeline has focus (the preview has its own): Space, J/K/L, Left/Right.
    const std::pair<int, void (PreviewPlayer::*)()> transport[] = {
        {Qt::Key_Space, &PreviewPlayer::togglePlay}, {Qt::Key_J, &PreviewPlayer::playReverse},
        {Qt::Key_K, &PreviewPlayer::stop},           {Qt::Key_L, &PreviewPlayer::playForward},
        {Qt::Key_Left, &PreviewPlayer::stepBack},    {Qt::Key_Right, &PreviewPlayer::stepForward}};
    for (const auto& [key, slot] : transport) {
        auto* shortcut = new QShortcut(QKeySequence(key), timeline_scroll_);
        shortcut->setContext(Qt::WidgetWithChildrenShortcut);
        connect(shortcut, &QShortcut::activated, this, [this, slot] {
            if (!preview_->isSequence()) previewSequence();
            (preview_->*slot)();
        });
    }
    connect(preview_, &PreviewPlayer::frameChanged, this, [this](qint64 frame) {
        if (!preview_->isSequence()) return;
        timeline_->setPlayhead(frame);
        // While playing, the timeline scrolls to keep the playhead in view.
        if (preview_->isPlaying()) timeline_scroll_->ensureVisible(timeline_->xForFrame(frame), 0, 80, 0);
    });
    connect(jobs_panel_, &JobsPanel::cancelRequested, this, &MainWindow::cancelJob);
    connect(jobs_panel_, &JobsPanel::retryRequested, this, [this](quint64 id) { retryJob(id); });
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
    connect(add(file, tr("&Relink media…"), "actionRelinkMedia", QKeySequence()), &QAction::triggered, this,
            [this] { relinkMedia(); });
    file->addSeparator();
    connect(add(file, tr("&Export…"), "actionExport", QKeySequence(Qt::CTRL | Qt::Key_E)),
            &QAction::triggered, this, [this] { fileExport(); });
    connect(add(file, tr("Add &music…"), "actionAddMusicFile", QKeySequence()), &QAction::triggered,
            timeline_, &TimelineView::promptAddMusic);
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
    duplicate_shot_action_ = add(shot, tr("&Duplicate shot"), "actionDuplicateShot", QKeySequence());
    connect(duplicate_shot_action_, &QAction::triggered, this, &MainWindow::duplicateShot);
    remove_shot_action_ = add(shot, tr("&Remove shot"), "actionRemoveShot", QKeySequence());
    connect(remove_shot_action_, &QAction::triggered, this, &MainWindow::removeShot);
    shot->addSeparator();
    generate_action_ = add(shot, tr("&Generate"), "actionGenerate", QKeySequence(Qt::CTRL | Qt::Key_Return));
    connect(generate_action_, &QAction::triggered, this, [this] { generate(); });
    connect(add(shot, tr("Generate &variations"), "actionGenerateVariations", QKeySequence()),
            &QAction::triggered, this, [this] { generateVariations(takes_strip_->variationCount()); });
    connect(add(shot, tr("&Score takes"), "actionScoreTakes", QKeySequence()), &QAction::triggered, this,
            [this] { scoreTakes(); });
    shot->addSeparator();
    connect(add(shot, tr("Use preview frame as &first frame"), "actionFrameToFirst", QKeySequence()),
            &QAction::triggered, this, [this] { useShownFrameAsKeyframe(false); });
    connect(add(shot, tr("Use preview frame as &last frame"), "actionFrameToLast", QKeySequence()),
            &QAction::triggered, this, [this] { useShownFrameAsKeyframe(true); });

    // Timeline: the keys (S, Shift+Del, Del) act while the timeline has focus, so they are shown, not bound.
    QMenu* timeline = menuBar()->addMenu(tr("&Timeline"));
    connect(add(timeline, tr("Add &video track"), "actionAddVideoTrack", QKeySequence()), &QAction::triggered,
            timeline_, &TimelineView::addVideoTrack);
    connect(add(timeline, tr("Add &audio track"), "actionAddAudioTrack", QKeySequence()), &QAction::triggered,
            timeline_, &TimelineView::addAudioTrack);
    connect(add(timeline, tr("Add &music…"), "actionAddMusic", QKeySequence()), &QAction::triggered,
            timeline_, &TimelineView::promptAddMusic);
    timeline->addSeparator();
    connect(add(timeline, tr("&Split at playhead\tS"), "actionSplit", QKeySequence()), &QAction::triggered,
            timeline_, &TimelineView::splitAtPlayhead);
    connect(add(timeline, tr("&Ripple delete\tShift+Del"), "actionRippleDelete", QKeySequence()),
            &QAction::triggered, timeline_, &TimelineView::rippleDeleteSelected);
    connect(add(timeline, tr("&Delete clip\tDel"), "actionDeleteClip", QKeySequence()), &QAction::triggered,
            timeline_, &TimelineView::deleteSelected);
    timeline->addSeparator();
    connect(add(timeline, tr("&Crossfade with previous clip…"), "actionCrossfade", QKeySequence()),
            &QAction::triggered, timeline_, &TimelineView::promptCrossfade);
    connect(add(timeline, tr("Clip s&peed…"), "actionSpeed", QKeySequence()), &QAction::triggered, timeline_,
            &TimelineView::promptSpeed);
    connect(add(timeline, tr("&Fades…"), "actionFades", QKeySequence()), &QAction::triggered, timeline_,
            &TimelineView::promptFades);
    connect(add(timeline, tr("Audio &gain…"), "actionGain", QKeySequence()), &QAction::triggered, timeline_,
            &TimelineView::promptGain);
    timeline->addSeparator();
    QAction* check_cuts = add(timeline, tr("C&heck cuts"), "actionCheckCuts", QKeySequence());
    check_cuts->setToolTip(
        tr("Measure colour shift, brightness jump and motion at every cut (badges on the timeline)"));
    connect(check_cuts, &QAction::triggered, this, [this] {
        if (checkCuts() == 0)
            statusBar()->showMessage(
                tr("No cuts to check: put two clips next to each other on a video track"), 5000);
    });
    timeline->addSeparator();
    connect(add(timeline, tr("Zoom &in"), "actionZoomIn", QKeySequence()), &QAction::triggered, timeline_,
            &TimelineView::zoomIn);
    connect(add(timeline, tr("Zoom &out"), "actionZoomOut", QKeySequence()), &QAction::triggered, timeline_,
            &TimelineView::zoomOut);

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
    for (auto& [id, pending] : pending_scores_) jobs_->cancel(id);
    for (auto& [id, pending] : pending_cuts_) jobs_->cancel(id);
    timeline_->setCutScores({});
    retryable_.clear();  // retrying adds to a shot of the old project
    missing_media_.clear();
    scores_.clear();
    take_frames_.clear();
    failed_shots_.clear();
    thumbnails_->clear();
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
    duplicate_shot_action_->setEnabled(has_shot);

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

fs::path MainWindow::project_dir() const {
    return document_->path().empty() ? fs::path() : document_->path().parent_path();
}

std::set<std::string> MainWindow::generating_shots() const {
    std::set<std::string> out;
    for (const auto& [id, pending] : pending_) out.insert(pending.shot_id);
    return out;
}

void MainWindow::rebuild_shot_list() {
    storyboard_->rebuild(document_->project(), project_dir(), current_shot_, generating_shots(),
                         failed_shots_);
}

void MainWindow::rebuild_take_list() {
    const core::Shot* shot = document_->project().find_shot(current_shot_);
    takes_strip_->rebuild(shot, project_dir(), scores_, shot ? best_take(*shot, scores_) : std::string());
}

QString MainWindow::bestTake(const QString& shot_id) const {
    const core::Shot* shot = document_->project().find_shot(shot_id.toStdString());
    return shot ? qs(best_take(*shot, scores_)) : QString();
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

ExportDialog* MainWindow::fileExport() {
    if (!export_dialog_) {
        export_dialog_ = new ExportDialog(document_, jobs_.get(), this);
        connect(export_dialog_, &ExportDialog::exportFinished, this,
                [this](bool, const QString& message) { statusBar()->showMessage(message, 8000); });
    }
    export_dialog_->refresh();
    export_dialog_->show();
    export_dialog_->raise();
    return export_dialog_;
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
    // Unfinished generations are work too: saving keeps them in the file, to be queued again on open.
    const size_t unfinished = unfinished_generations().size();
    if (!document_->is_modified() && unfinished == 0) return true;
    QMessageBox::StandardButton answer = unsaved_answer_;
    if (interactive_) {
        const QString question =
            document_->is_modified()
                ? tr("Save the changes to \"%1\" first?").arg(qs(document_->project().name))
                : tr("%n generation(s) of \"%1\" have not finished. Save the project so they are queued "
                     "again when it is opened?",
                     nullptr, static_cast<int>(unfinished))
                      .arg(qs(document_->project().name));
        answer = QMessageBox::warning(this, tr("Unsaved changes"), question,
                                      QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel,
                                      QMessageBox::Save);
    }
    if (answer == QMessageBox::Save) return saveProject();
    if (answer != QMessageBox::Discard) return false;
    document_->remove_autosave();  // the user chose to lose these changes
    return true;
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
    if (document_->has_newer_autosave()) {
        bool restore = false;
        if (restore_prompt_) {
            restore = restore_prompt_(path);
        } else if (interactive_) {
            restore = QMessageBox::question(
                          this, tr("Restore autosave"),
                          tr("\"%1\" has an autosave newer than the file (unsaved work from an earlier "
                             "session). Restore it?")
                              .arg(path),
                          QMessageBox::Yes | QMessageBox::No, QMessageBox::Yes) == QMessageBox::Yes;
        }
        if (restore) {
            auto restored = document_->restore_autosave();
            if (!restored)
                show_error(tr("Cannot restore autosave"), qs(restored.message()));
            else
                statusBar()->showMessage(tr("Restored the autosave of %1").arg(path), 5000);
        }
    }
    offer_relink();
    requeue_saved_generations();  // after relinking, so the jobs see the relinked files
    return true;
}

void MainWindow::offer_relink() {
    relink_folder_.clear();
    missing_media_.clear();
    for (const std::string& file : document_->missing_media()) missing_media_.append(qs(file));
    if (missing_media_.isEmpty()) return;
    relinkMedia();
}

int MainWindow::relinkMedia() {
    missing_media_.clear();
    for (const std::string& file : document_->missing_media()) missing_media_.append(qs(file));
    if (missing_media_.isEmpty()) {
        statusBar()->showMessage(tr("No media is missing"), 3000);
        return 0;
    }
    QString folder;
    if (relink_prompt_) {
        folder = relink_prompt_(missing_media_);
    } else if (interactive_) {
        const QString first = missing_media_.front();
        const bool ask =
            QMessageBox::question(this, tr("Media missing"),
                                  tr("%n media file(s) of this project cannot be found (e.g. \"%1\"). Were "
                                     "they moved? Choose the folder that holds them now.",
                                     nullptr, static_cast<int>(missing_media_.size()))
                                      .arg(first),
                                  QMessageBox::Yes | QMessageBox::No, QMessageBox::Yes) == QMessageBox::Yes;
        if (ask)
            folder = QFileDialog::getExistingDirectory(this, tr("Where did the media go?"),
                                                       qs(project_dir().string()));
    }
    if (!folder.isEmpty()) {
        relink_folder_ = folder;
        auto relinked = document_->relink_missing(fs::path(folder.toStdString()));
        if (!relinked) {
            show_error(tr("Cannot relink media"), qs(relinked.message()));
        } else {
            const int found = static_cast<int>(missing_media_.size()) - static_cast<int>(relinked->size());
            missing_media_.clear();
            for (const std::string& file : *relinked) missing_media_.append(qs(file));
            thumbnails_->clear();
            rebuild_shot_list();
            rebuild_take_list();
            statusBar()->showMessage(
                tr("Relinked %1 media file(s); %2 still missing").arg(found).arg(missing_media_.size()),
                8000);
        }
    }
    if (!missing_media_.isEmpty()) {
        // Still missing: said once, with the files, so the user knows what will not play or render.
        QStringList shown = missing_media_.mid(0, 5);
        if (missing_media_.size() > 5) shown.append(tr("… and %1 more").arg(missing_media_.size() - 5));
        show_error(tr("Media missing"), tr("missing media: %1").arg(shown.join(QStringLiteral(", "))));
    }
    return static_cast<int>(missing_media_.size());
}

void MainWindow::setAutosaveInterval(int ms) {
    if (ms <= 0) {
        autosave_timer_->stop();
        return;
    }
    autosave_timer_->start(ms);
}

bool MainWindow::autosaveNow() {
    if (!document_->is_modified()) return false;
    auto written = document_->write_autosave();
    if (!written) {
        statusBar()->showMessage(tr("Autosave failed: %1").arg(qs(written.message())), 8000);
        return false;
    }
    if (!*written) return false;
    emit autosaved(qs(document_->autosave_path().string()));
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

void MainWindow::duplicateShot() {
    const int index = document_->project().shot_index(current_shot_);
    if (index < 0) return;
    auto duplicated = document_->push(core::make_duplicate_shot(current_shot_));
    if (!duplicated) {
        show_error(tr("Cannot duplicate shot"), qs(duplicated.message()));
        return;
    }
    selectShot(qs(document_->project().shots[static_cast<size_t>(index) + 1].id));
}

bool MainWindow::moveShot(const QString& shot_id, int to_index) {
    auto moved = document_->push(core::make_move_shot(shot_id.toStdString(), to_index));
    if (!moved) {
        show_error(tr("Cannot move shot"), qs(moved.message()));
        rebuild_shot_list();
        return false;
    }
    return true;
}

int64_t MainWindow::take_frames_at_sequence_rate(const core::Take& take) {
    int64_t frames = 0;
    auto known = take_frames_.find(take.id);
    if (known != take_frames_.end()) {
        frames = known->second;
    } else if (auto info = media::probe(document_->resolve_media(take.file))) {
        frames = info->frame_count;
        take_frames_[take.id] = frames;
    }
    if (frames <= 0) return 0;
    const core::FrameRate sequence_rate = document_->project().sequence.fps;
    if (take.params.fps != sequence_rate)
        frames = std::max<int64_t>(core::rescale_frames(frames, take.params.fps, sequence_rate), 1);
    return frames;
}

const core::Take* MainWindow::take_of_current_shot(const QString& take_id, const QString& action) {
    const core::Shot* shot = document_->project().find_shot(current_shot_);
    const core::Take* take = shot ? shot->find_take(take_id.toStdString()) : nullptr;
    if (!take) show_error(action, tr("the selected shot has no take %1").arg(take_id));
    return take;
}

bool MainWindow::pickTake(const QString& take_id) {
    const core::Take* take = take_of_current_shot(take_id, tr("Cannot pick take"));
    if (!take) return false;
    const int64_t frames = take_frames_at_sequence_rate(*take);
    if (frames <= 0) {
        show_error(tr("Cannot pick take"), tr("cannot read %1").arg(qs(take->file)));
        return false;
    }
    auto picked = document_->push(core::make_pick_take(current_shot_, take->id, frames));
    if (!picked) {
        show_error(tr("Cannot pick take"), qs(picked.message()));
        return false;
    }
    return true;
}

QList<quint64> MainWindow::generateVariations(int count) {
    QList<quint64> ids;
    const core::Shot* shot = document_->project().find_shot(current_shot_);
    if (!shot) {
        show_error(tr("Cannot generate"), tr("select a shot to generate"));
        return ids;
    }
    const core::Shot copy = *shot;  // submitting rebuilds views; keep our own copy
    // Locked: seed, seed+1, ... so the same N variations come back; unlocked: fresh seeds.
    const uint64_t base = inspector_->seedLocked() ? copy.params.seed : random_seed();
    const std::string name = copy.name.empty() ? copy.id : copy.name;
    for (int i = 0; i < count; ++i) {
        core::GenerationParams params = copy.params;
        params.seed = base + static_cast<uint64_t>(i);
        const quint64 id = submit_generation(
            copy.id, params, /*to_timeline=*/false,
            "Variation " + std::to_string(i + 1) + "/" + std::to_string(count) + " of " + name);
        if (id == 0) break;
        ids.append(id);
    }
    return ids;
}

bool MainWindow::removeTake(const QString& take_id) {
    auto removed = document_->push(core::make_remove_take(current_shot_, take_id.toStdString()));
    if (!removed) {
        show_error(tr("Cannot remove take"), qs(removed.message()));
        return false;
    }
    statusBar()->showMessage(tr("Removed %1 (its file is kept)").arg(take_id), 5000);
    return true;
}

quint64 MainWindow::extendTake(const QString& take_id) {
    const core::Shot* shot = document_->project().find_shot(current_shot_);
    const core::Take* take = take_of_current_shot(take_id, tr("Cannot extend take"));
    if (!take) return 0;
    // The take's own settings (model, size, rate) so the continuation matches it; the shot's current
    // prompt, so the user can say what happens next; as many new frames as the shot asks for.
    core::GenerationParams params = take->params;
    if (!shot->params.prompt.empty()) params.prompt = shot->params.prompt;
    params.frames = shot->params.frames;
    params.seed = inspector_->seedLocked() ? shot->params.seed : random_seed();
    params.conditioning.extend = take->file;
    params.conditioning.keep_source = true;
    params.conditioning.first_frame.clear();  // the source's frames are the start
    params.conditioning.last_frame.clear();
    // "by N s" in the takes strip: that much new footage (passes of the model); 0 = one pass.
    const double seconds = takes_strip_->extendSeconds();
    params.conditioning.extend_frames =
        seconds > 0.0 ? std::max<int64_t>(1, std::llround(seconds * params.fps.to_double())) : 0;
    const core::Shot copy = *shot;
    return submit_generation(copy.id, params, /*to_timeline=*/false, "Extend " + take->id,
                             takes_strip_->correctExtensions());
}

bool MainWindow::useLastFrameForNextShot(const QString& take_id) {
    const core::Project& project = document_->project();
    const int index = project.shot_index(current_shot_);
    const core::Shot* shot = document_->project().find_shot(current_shot_);
    const core::Take* take = take_of_current_shot(take_id, tr("Cannot use the last frame"));
    if (!take) return false;
    // Seek straight to the last frame: a long take is never decoded whole on the GUI thread.
    const auto last_frame = [](const fs::path& file) -> core::Result<core::Frame> {
        auto reader = media::VideoReader::open(file);
        if (!reader) return reader.error();
        const int64_t count = (*reader)->info().frame_count;
        if (count <= 0) return core::fail(file.string() + " has no frames");
        FL_TRY((*reader)->seek(count - 1));
        return (*reader)->read_next();
    };
    auto frame = last_frame(document_->resolve_media(take->file));
    if (!frame) {
        show_error(tr("Cannot use the last frame"), qs(frame.message()));
        return false;
    }
    const fs::path folder = document_->media_dir();
    std::error_code ec;
    fs::create_directories(folder, ec);
    const fs::path png = folder / (shot->id + "-" + take->id + "-last.png");
    if (auto written = media::write_png(*frame, png); !written) {
        show_error(tr("Cannot use the last frame"), qs(written.message()));
        return false;
    }
    const std::string reference = document_->media_reference(png);
    core::Result<void> done = core::ok();
    std::string next_id;
    if (index + 1 < static_cast<int>(project.shots.size())) {
        const core::Shot& next = project.shots[static_cast<size_t>(index) + 1];
        next_id = next.id;
        core::GenerationParams params = next.params;
        params.conditioning.first_frame = reference;
        params.conditioning.extend.clear();  // a first frame and an extension both set the start
        done = document_->push(core::make_set_shot_params(next.id, params));
    } else {
        core::Shot next;
        next.name = tr("Shot %1").arg(project.shots.size() + 1).toStdString();
        next.params = shot->params;
        next.params.conditioning = core::Conditioning{};
        next.params.conditioning.references = shot->params.conditioning.references;
        next.params.conditioning.first_frame = reference;
        done = document_->push(core::make_add_shot(std::move(next), index + 1));
        if (done) next_id = document_->project().shots[static_cast<size_t>(index) + 1].id;
    }
    if (!done) {
        show_error(tr("Cannot use the last frame"), qs(done.message()));
        return false;
    }
    statusBar()->showMessage(tr("The last frame of %1 starts the next shot").arg(take_id), 5000);
    selectShot(qs(next_id));
    return true;
}

bool MainWindow::remixTake(const QString& take_id) {
    const core::Shot* shot = document_->project().find_shot(current_shot_);
    const core::Take* take = take_of_current_shot(take_id, tr("Cannot remix"));
    if (!take) return false;
    const core::GenerationParams params = take->params;  // exactly what made the take: model, seed, all
    if (params != shot->params) {
        if (auto done = document_->push(core::make_set_shot_params(shot->id, params)); !done) {
            show_error(tr("Cannot remix"), qs(done.message()));
            return false;
        }
    }
    inspector_->setSeedLocked(true);
    inspector_->focusPrompt();
    statusBar()->showMessage(
        tr("Remix of %1: seed %2 locked; edit the prompt and generate").arg(take_id).arg(take->params.seed),
        5000);
    return true;
}

bool MainWindow::useShownFrameAsKeyframe(bool last) {
    const QString title = last ? tr("Cannot set the last frame") : tr("Cannot set the first frame");
    const core::Shot* shot = document_->project().find_shot(current_shot_);
    if (!shot) {
        show_error(title, tr("select the shot the frame is for"));
        return false;
    }
    const QImage shown = preview_->image().convertToFormat(QImage::Format_RGB888);
    if (shown.isNull()) {
        show_error(title, tr("the preview shows nothing: show a take or the timeline and stop on the frame"));
        return false;
    }
    core::Frame frame(shown.width(), shown.height());
    for (int y = 0; y < shown.height(); ++y)
        std::memcpy(frame.pixel(0, y), shown.constScanLine(y), static_cast<size_t>(shown.width()) * 3);
    const fs::path folder = document_->media_dir();
    std::error_code ec;
    fs::create_directories(folder, ec);
    // A fresh name each time: an earlier keyframe file stays for undo.
    const fs::path png =
        folder / (shot->id + (last ? "-last-" : "-first-") + "frame" + std::to_string(preview_->frame()) +
                  "-" + std::to_string(QDateTime::currentMSecsSinceEpoch()) + ".png");
    if (auto written = media::write_png(frame, png); !written) {
        show_error(title, qs(written.message()));
        return false;
    }
    core::GenerationParams params = shot->params;
    (last ? params.conditioning.last_frame : params.conditioning.first_frame) =
        document_->media_reference(png);
    if (!last) params.conditioning.extend.clear();  // a first frame and an extension both set the start
    if (auto done = document_->push(core::make_set_shot_params(shot->id, params)); !done) {
        show_error(title, qs(done.message()));
        return false;
    }
    statusBar()->showMessage(tr("Frame %1 of the preview is the %2 frame of %3")
                                 .arg(preview_->frame() + 1)
                                 .arg(last ? tr("last") : tr("first"))
                                 .arg(qs(shot->name.empty() ? shot->id : shot->name)),
                             5000);
    return true;
}

// ---- generation ----

quint64 MainWindow::generate() {
    const core::Shot* shot = document_->project().find_shot(current_shot_);
    if (!shot) {
        show_error(tr("Cannot generate"), tr("select a shot to generate"));
        return 0;
    }
    core::GenerationParams params = shot->params;
    if (!inspector_->seedLocked()) params.seed = random_seed();  // the take records the seed it used
    const core::Shot copy = *shot;
    return submit_generation(copy.id, params, /*to_timeline=*/true,
                             "Generate " + (copy.name.empty() ? copy.id : copy.name));
}

quint64 MainWindow::submit_generation(const std::string& shot_id, const core::GenerationParams& params,
                                      bool to_timeline, const std::string& title, bool correct_extension) {
    auto valid = params.validate();
    if (!valid) {
        show_error(tr("Cannot generate"), qs(valid.message()));
        return 0;
    }
    const QString stamp = QDateTime::currentDateTimeUtc().toString(QStringLiteral("yyyyMMdd-HHmmss"));
    const fs::path target = document_->media_dir() / (shot_id + "-" + stamp.toStdString() + "-" +
                                                      std::to_string(++generation_counter_) + ".mp4");

    auto result = std::make_shared<GeneratedTake>();
    const fs::path media_base = document_->resolve_media(".").parent_path();
    GenerationSpec spec{params, target, media_base, correct_extension, {}};
    // Step previews arrive on the worker: the frame is copied into a QImage there and handed to the GUI
    // thread. The job id is only known once submit returns; the posted calls run after that, on this
    // thread, so they read it without a lock.
    auto job_id = std::make_shared<quint64>(0);
    spec.step_preview = [this, job_id](int step, int steps, const core::Video& preview) {
        if (preview.frames.empty()) return;
        const core::Frame& f = preview.frames.front();
        QImage image = QImage(f.rgb.data(), f.width, f.height, f.width * 3, QImage::Format_RGB888).copy();
        QMetaObject::invokeMethod(
            this,
            [this, job_id, image, step, steps] { jobs_panel_->setPreview(*job_id, image, step, steps); },
            Qt::QueuedConnection);
    };
    GenerationService* service = service_.get();
    const uint64_t id =
        jobs_->submit(title, [service, spec, result](core::JobContext& job) -> core::Result<void> {
            auto generated = service->run(spec, job);
            if (!generated) return generated.error();
            *result = std::move(generated).value();
            return core::ok();
        });
    *job_id = id;
    // The request as it can be stored or retried: conditioning paths made absolute, so a Save As into
    // another folder (which re-expresses them) or a retry after one still finds the files.
    core::QueuedGeneration request{shot_id, title, params, to_timeline, correct_extension};
    const auto absolute = [&](std::string& file) {
        if (!file.empty()) file = core::resolve_media_reference(file, media_base).string();
    };
    core::Conditioning& c = request.params.conditioning;
    absolute(c.first_frame);
    absolute(c.last_frame);
    absolute(c.extend);
    for (std::string& r : c.references) absolute(r);
    pending_[id] = PendingGeneration{result, shot_id, document_->epoch(), to_timeline, std::move(request)};
    failed_shots_.erase(shot_id);
    rebuild_shot_list();  // the card says "generating"
    return id;
}

std::vector<core::QueuedGeneration> MainWindow::unfinished_generations() const {
    std::vector<core::QueuedGeneration> out;
    const core::Project& project = document_->project();
    for (const auto& [id, pending] : pending_) {            // by job id: submission order
        if (pending.epoch != document_->epoch()) continue;  // work of a project no longer open
        if (!project.find_shot(pending.shot_id)) continue;  // its shot was removed: nothing to add to
        out.push_back(pending.request);
    }
    return out;
}

void MainWindow::requeue_saved_generations() {
    int queued = 0;
    std::vector<core::QueuedGeneration> saved = document_->take_queued_generations();
    if (!relink_folder_.isEmpty() && !saved.empty()) {
        // Their keyframes and extended clips moved with the rest of the media: the same folder relinks them.
        core::Project holder;
        holder.queued_generations = std::move(saved);
        (void)core::relink_missing_media(holder, project_dir(), fs::path(relink_folder_.toStdString()));
        saved = std::move(holder.queued_generations);
    }
    for (core::QueuedGeneration& q : saved) {
        if (!document_->project().find_shot(q.shot_id)) continue;  // the shot is gone: nothing to add to
        const std::string title = q.title.empty() ? "Generate " + q.shot_id : q.title;
        if (submit_generation(q.shot_id, q.params, q.to_timeline, title, q.correct_extension) != 0) ++queued;
    }
    if (queued > 0)
        statusBar()->showMessage(
            tr("Queued again %n unfinished generation(s) of this project", nullptr, queued), 5000);
}

quint64 MainWindow::retryJob(quint64 id) {
    auto it = retryable_.find(id);
    if (it == retryable_.end()) return 0;
    const core::QueuedGeneration request = it->second;
    if (!document_->project().find_shot(request.shot_id)) {
        show_error(tr("Cannot retry"), tr("the shot of this job was removed"));
        return 0;
    }
    const quint64 next = submit_generation(request.shot_id, request.params, request.to_timeline,
                                           request.title, request.correct_extension);
    if (next != 0) {
        retryable_.erase(it);
        jobs_panel_->setRetryable(id, false);
    }
    return next;
}

quint64 MainWindow::scoreTakes() {
    // What to measure, copied for the worker: take id → (file, reference images).
    struct Item {
        std::string take_id;
        fs::path file;
        core::Conditioning references;
        fs::path extended_source;  ///< the clip a take extended with its source kept ("" otherwise)
    };
    std::vector<Item> items;
    for (const core::Shot& shot : document_->project().shots) {
        for (const core::Take& take : shot.takes) {
            if (scores_.count(take.id)) continue;
            core::Conditioning refs;
            refs.references = shot.params.conditioning.references;
            const core::Conditioning& made = take.params.conditioning;
            const fs::path source =
                !made.extend.empty() && made.keep_source ? document_->resolve_media(made.extend) : fs::path();
            items.push_back({take.id, document_->resolve_media(take.file), refs, source});
        }
    }
    if (items.empty()) return 0;
    auto result = std::make_shared<std::map<std::string, consistency::TakeScores>>();
    const fs::path base = document_->resolve_media(".").parent_path();
    const uint64_t id =
        jobs_->submit("Score takes", [items, result, base](core::JobContext& job) -> core::Result<void> {
            int64_t done = 0;
            for (const Item& item : items) {
                if (job.cancelled()) return core::fail(core::kCancelledMessage);
                job.progress(done, static_cast<int64_t>(items.size()), "measuring " + item.take_id);
                auto video = media::decode_video(item.file);
                auto refs = media::load_conditioning(item.references, base);
                int64_t seam_at = 0;  // an extension's join is after the source's frames
                if (!item.extended_source.empty())
                    if (auto source = media::probe(item.extended_source)) seam_at = source->frame_count;
                if (video && refs) {
                    if (auto scores = measure_take(*video, refs->references, seam_at))
                        (*result)[item.take_id] = *scores;
                }
                ++done;
            }
            job.progress(done, done, "measured " + std::to_string(result->size()) + " takes");
            return core::ok();
        });
    pending_scores_[id] = PendingScores{result, document_->epoch()};
    return id;
}

quint64 MainWindow::checkCuts() {
    const core::Project project = document_->project();  // the worker measures this copy
    size_t cuts = 0;
    for (const core::Track& track : project.sequence.tracks)
        if (track.kind == core::TrackKind::Video && track.clips.size() > 1) cuts += track.clips.size() - 1;
    if (cuts == 0) return 0;
    auto result = std::make_shared<std::vector<CutScore>>();
    const fs::path base = document_->resolve_media(".").parent_path();
    const uint64_t id = jobs_->submit(
        "Check cuts", [project, result, base, cuts](core::JobContext& job) -> core::Result<void> {
            media::ClipFrames sources(base);
            int64_t done = 0;
            const auto frames_of = [&](const core::Clip& clip) -> core::Result<core::Video> {
                if (job.cancelled()) return core::fail(core::kCancelledMessage);
                job.progress(done, static_cast<int64_t>(cuts),
                             "reading " + (clip.name.empty() ? clip.id : clip.name));
                return sources.of(project, clip);
            };
            auto measured = consistency::measure_cuts(project, frames_of);
            if (!measured) return measured.error();
            for (const consistency::CutMetrics& m : *measured) {
                const core::Track* track = project.sequence.find_track(m.track_id);
                const int from = track ? track->index_of(m.from_clip) : -1,
                          to = track ? track->index_of(m.to_clip) : -1;
                if (from >= 0 && to >= 0)
                    result->push_back(
                        {m, track->clips[static_cast<size_t>(from)], track->clips[static_cast<size_t>(to)]});
                ++done;
            }
            job.progress(done, done, "measured " + std::to_string(result->size()) + " cuts");
            return core::ok();
        });
    pending_cuts_[id] = PendingCuts{result, document_->epoch()};
    return id;
}

void MainWindow::cancelJob(quint64 id) { jobs_->cancel(id); }

void MainWindow::onJobChanged(const core::JobStatus& status) {
    jobs_panel_->updateJob(status);
    if (export_dialog_) export_dialog_->onJobChanged(status);
    const bool finished = status.state == core::JobState::Done || status.state == core::JobState::Failed ||
                          status.state == core::JobState::Cancelled;
    if (!finished) return;
    if (auto cit = pending_cuts_.find(status.id); cit != pending_cuts_.end()) {
        const PendingCuts pending = cit->second;
        pending_cuts_.erase(cit);
        if (status.state == core::JobState::Done && pending.epoch == document_->epoch()) {
            double worst = 0.0;
            for (const CutScore& cut : *pending.result) worst = std::max(worst, cut.metrics.seam.delta_e);
            timeline_->setCutScores(*pending.result);
            statusBar()->showMessage(tr("%n cut(s) measured; largest colour shift \u0394E00 %1", "",
                                        static_cast<int>(pending.result->size()))
                                         .arg(worst, 0, 'f', 1),
                                     8000);
        }
        emit cutsChecked(status.id);
        return;
    }
    if (auto sit = pending_scores_.find(status.id); sit != pending_scores_.end()) {
        const PendingScores pending = sit->second;
        pending_scores_.erase(sit);
        if (status.state == core::JobState::Done && pending.epoch == document_->epoch()) {
            for (const auto& [take_id, scores] : *pending.result) scores_[take_id] = scores;
            rebuild_take_list();
        }
        emit scoringFinished(status.id);
        return;
    }
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
    } else if (status.state == core::JobState::Failed && pending.epoch == document_->epoch()) {
        failed_shots_.insert(pending.shot_id);
    }
    if ((status.state == core::JobState::Failed || status.state == core::JobState::Cancelled) &&
        pending.epoch == document_->epoch()) {
        retryable_[status.id] = pending.request;
        jobs_panel_->setRetryable(status.id, true);
    }
    rebuild_shot_list();         // the card's status follows
    if (applied) autosaveNow();  // a finished generation is work worth keeping
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
    const core::Shot* shot = document_->project().find_shot(pending.shot_id);
    const std::string keep_selected = shot ? shot->selected_take : std::string();
    std::unique_ptr<core::Command> command;
    if (pending.to_timeline || keep_selected.empty()) {
        // The shot's first take (or a plain Generate) goes straight onto the timeline.
        command = core::make_add_take_to_timeline(document_->project(), pending.shot_id, take, frames);
    } else {
        // A variation or an extension joins the shot; the pick (and the timeline) stay as they are.
        std::vector<std::unique_ptr<core::Command>> steps;
        steps.push_back(core::make_add_take(pending.shot_id, take));
        steps.push_back(core::make_select_take(pending.shot_id, keep_selected));
        command = core::make_macro("Add take", std::move(steps));
    }
    const size_t takes_before = shot ? shot->takes.size() : 0;
    auto added = document_->push(std::move(command));
    if (!added) {
        jobs_panel_->setJobError(job_id, qs(added.message()));
        return false;
    }
    if (const core::Shot* after = document_->project().find_shot(pending.shot_id);
        after && after->takes.size() > takes_before) {
        const std::string& new_id = after->takes.back().id;
        take_frames_[new_id] = pending.result->frame_count;
        if (pending.result->scores) {
            scores_[new_id] = *pending.result->scores;
        } else if (!pending.result->scores_error.empty()) {
            statusBar()->showMessage(qs(pending.result->scores_error), 5000);
        }
        rebuild_take_list();
        rebuild_shot_list();
    }
    if (pending.shot_id == current_shot_) preview_->showFile(absolute);
    return true;
}

}  // namespace fl::studio
