// The studio driven as a user would, under QT_QPA_PLATFORM=offscreen: open, generate, undo/redo,
// drag on the timeline, save-as and reload, cancel, and a bad project file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <QAction>
#include <QApplication>
#include <QComboBox>
#include <QLabel>
#include <QListWidget>
#include <QMouseEvent>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTest>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "frameloom/core/atomic_file.h"
#include "frameloom/core/edit.h"
#include "frameloom/core/project.h"
#include "frameloom/core/project_file.h"
#include "frameloom/inference/generator.h"
#include "frameloom/inference/model_store.h"
#include "support/studio_fixture.h"
#include "ui/generation_service.h"
#include "ui/jobs_panel.h"
#include "ui/main_window.h"
#include "ui/preview_player.h"
#include "ui/project_document.h"
#include "ui/timeline_view.h"

namespace fs = std::filesystem;
using fl::studio::MainWindow;
using fl::test::send_mouse;
using fl::test::wait_until;

namespace {

constexpr int kJobTimeoutMs = 60000;

std::string read_bytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

class StudioTest : public fl::test::StudioFixture {
protected:
    StudioTest() : StudioFixture("fl-gui") {}

    static void SetUpTestSuite() {
        // main.cpp creates the QApplication before any test runs.
        ASSERT_NE(QApplication::instance(), nullptr);
    }

    /// A saved project with one shot asking for a small clip of the default model.
    fs::path write_project(int steps = 2) {
        fl::core::Project project = fl::test::one_shot_project(steps);
        project.shots.front().params.width = 64;
        project.shots.front().params.height = 64;
        return fl::test::save_project_expect_ok(project, dir_ / "film.flproj");
    }

    MainWindow& open_window(const fs::path& project) {
        // The studio's own model roots ($FRAMELOOM_MODELS, ./models, the source tree's models/), as a user
        // gets.
        window_ = std::make_unique<MainWindow>();
        window_->setInteractive(false);
        window_->show();
        EXPECT_TRUE(window_->openProject(QString::fromStdString(project.string())))
            << window_->lastError().toStdString();
        return *window_;
    }

    /// A window on the project the studio starts with (no file opened), as a first-time user sees it.
    MainWindow& new_window() {
        window_ = std::make_unique<MainWindow>();
        window_->setInteractive(false);
        window_->show();
        return *window_;
    }

    QAction* action(const char* name) {
        auto* a = window_->findChild<QAction*>(QString::fromLatin1(name));
        EXPECT_NE(a, nullptr) << name;
        return a;
    }

    /// Selects the first shot in the shot list as a click would.
    void select_first_shot() {
        auto* shots = window_->findChild<QListWidget*>("shotList");
        ASSERT_NE(shots, nullptr);
        ASSERT_GE(shots->count(), 1);
        shots->setCurrentRow(0);
        ASSERT_EQ(window_->currentShot().toStdString(), window_->document()->project().shots.front().id);
    }

    /// Triggers Shot ▸ Generate and waits for the job's end; returns {job id, applied}.
    std::pair<quint64, bool> generate_and_wait() {
        QSignalSpy finished(window_.get(), &MainWindow::generationFinished);
        action("actionGenerate")->trigger();
        const bool ended = wait_until([&] { return finished.count() > 0; }, kJobTimeoutMs);
        EXPECT_TRUE(ended) << "generation did not finish within " << kJobTimeoutMs << " ms";
        if (!ended) return {0, false};
        return {finished.at(0).at(0).toULongLong(), finished.at(0).at(1).toBool()};
    }

    void expect_invariants() {
        auto ok = window_->document()->project().check_invariants();
        EXPECT_TRUE(ok.ok()) << ok.message();
    }
};

TEST_F(StudioTest, GenerateAddsTakeAndClipUndoRedoAndSaveAsReloads) {
    const fs::path project_path = write_project();
    MainWindow& w = open_window(project_path);
    select_first_shot();
    fl::studio::ProjectDocument& doc = *w.document();
    EXPECT_FALSE(doc.is_modified());

    auto [job, applied] = generate_and_wait();
    ASSERT_NE(job, 0u);
    ASSERT_TRUE(applied) << w.jobsPanel()->errorText(job).toStdString();
    EXPECT_EQ(w.jobsPanel()->stateText(job).toStdString(), "done");
    EXPECT_TRUE(doc.is_modified());
    EXPECT_TRUE(w.isWindowModified());

    // A take was added and selected; a clip of its full length references it on the first video track.
    const fl::core::Shot& shot = doc.project().shots.front();
    ASSERT_EQ(shot.takes.size(), 1u);
    const fl::core::Take take = shot.takes.front();
    EXPECT_EQ(shot.selected_take, take.id);
    EXPECT_EQ(take.params.steps, 2);
    EXPECT_EQ(take.params.seed, 7u);
    const auto& track = doc.project().sequence.tracks.front();
    ASSERT_EQ(track.clips.size(), 1u);
    const fl::core::Clip clip = track.clips.front();
    EXPECT_EQ(clip.source.shot_id, shot.id);
    EXPECT_EQ(clip.source.take_id, take.id);
    EXPECT_EQ(clip.position, 0);
    EXPECT_EQ(clip.duration(), 16);
    expect_invariants();

    // The MP4 lives in <project>.media/ beside the project file, stored relative, with the right hash.
    const fs::path mp4 = doc.resolve_media(take.file);
    ASSERT_TRUE(fs::exists(mp4)) << mp4;
    EXPECT_FALSE(fs::path(take.file).is_absolute()) << take.file;
    EXPECT_EQ(mp4.parent_path(), dir_ / "film.media");
    auto sha = fl::core::sha256_file(mp4);
    ASSERT_TRUE(sha.ok()) << sha.message();
    EXPECT_EQ(take.sha256, *sha);

    // The new take is on screen, and the timeline preview decodes it too.
    EXPECT_FALSE(w.preview()->image().isNull());
    EXPECT_EQ(w.preview()->frameCount(), 16);
    w.previewSequence();
    EXPECT_TRUE(w.preview()->isSequence());
    EXPECT_EQ(w.preview()->frameCount(), 16);
    EXPECT_FALSE(w.preview()->image().isNull());
    auto* takes = w.findChild<QListWidget*>("takeList");
    ASSERT_NE(takes, nullptr);
    EXPECT_EQ(takes->count(), 1);
    // Clicking the take previews it; clicking the ruler previews the timeline at that frame.
    emit takes->itemClicked(takes->item(0));
    EXPECT_FALSE(w.preview()->isSequence());
    EXPECT_EQ(w.preview()->frameCount(), 16);
    send_mouse(w.timeline(), QEvent::MouseButtonPress, QPoint(w.timeline()->xForFrame(5) + 1, 5),
               Qt::LeftButton);
    send_mouse(w.timeline(), QEvent::MouseButtonRelease, QPoint(w.timeline()->xForFrame(5) + 1, 5),
               Qt::NoButton);
    EXPECT_TRUE(w.preview()->isSequence());
    EXPECT_EQ(w.preview()->frame(), 5);
    EXPECT_EQ(w.timeline()->playhead(), 5);
    EXPECT_TRUE(w.preview()->timecodeText().startsWith("00:00:00:05"))
        << w.preview()->timecodeText().toStdString();
    EXPECT_TRUE(w.windowTitle().contains("Film")) << w.windowTitle().toStdString();

    // Undo removes take and clip in one step; redo restores them exactly.
    EXPECT_TRUE(action("actionUndo")->isEnabled());
    action("actionUndo")->trigger();
    EXPECT_TRUE(doc.project().shots.front().takes.empty());
    EXPECT_TRUE(doc.project().sequence.tracks.front().clips.empty());
    EXPECT_FALSE(doc.is_modified());
    EXPECT_EQ(takes->count(), 0);
    expect_invariants();
    action("actionRedo")->trigger();
    ASSERT_EQ(doc.project().shots.front().takes.size(), 1u);
    EXPECT_EQ(doc.project().shots.front().takes.front().id, take.id);
    ASSERT_EQ(doc.project().sequence.tracks.front().clips.size(), 1u);
    EXPECT_EQ(doc.project().sequence.tracks.front().clips.front().source.take_id, take.id);
    expect_invariants();

    // Dragging the clip moves it; the whole drag is one undo step.
    fl::studio::TimelineView* timeline = w.timeline();
    const std::string track_id = doc.project().sequence.tracks.front().id;
    const QRect r = timeline->clipRect(track_id, clip.id);
    ASSERT_TRUE(r.isValid());
    const QPoint grab = r.center();
    send_mouse(timeline, QEvent::MouseButtonPress, grab, Qt::LeftButton);
    EXPECT_EQ(timeline->selectedClip(), clip.id);
    const int ppf = static_cast<int>(timeline->pixelsPerFrame());
    send_mouse(timeline, QEvent::MouseMove, grab + QPoint(4 * ppf, 0), Qt::LeftButton);
    send_mouse(timeline, QEvent::MouseMove, grab + QPoint(10 * ppf, 0), Qt::LeftButton);
    send_mouse(timeline, QEvent::MouseButtonRelease, grab + QPoint(10 * ppf, 0), Qt::NoButton);
    EXPECT_EQ(doc.project().sequence.tracks.front().clips.front().position, 10);
    expect_invariants();
    action("actionUndo")->trigger();
    EXPECT_EQ(doc.project().sequence.tracks.front().clips.front().position, 0);
    ASSERT_EQ(doc.project().shots.front().takes.size(), 1u);  // the take is still there
    action("actionRedo")->trigger();
    EXPECT_EQ(doc.project().sequence.tracks.front().clips.front().position, 10);

    // Delete removes the selected clip (the take stays); undo puts it back.
    EXPECT_EQ(timeline->selectedClip(), clip.id);
    QTest::keyClick(timeline, Qt::Key_Delete);
    EXPECT_TRUE(doc.project().sequence.tracks.front().clips.empty());
    EXPECT_EQ(doc.project().shots.front().takes.size(), 1u);
    EXPECT_TRUE(timeline->selectedClip().empty());
    action("actionUndo")->trigger();
    ASSERT_EQ(doc.project().sequence.tracks.front().clips.size(), 1u);
    EXPECT_EQ(doc.project().sequence.tracks.front().clips.front().position, 10);
    expect_invariants();

    // Save As, then reload: the same project, and the window is clean.
    const fs::path copy = dir_ / "film-copy.flproj";
    ASSERT_TRUE(w.saveProjectAs(QString::fromStdString(copy.string()))) << w.lastError().toStdString();
    EXPECT_FALSE(doc.is_modified());
    EXPECT_FALSE(w.isWindowModified());
    EXPECT_TRUE(w.windowTitle().contains("film-copy.flproj"));
    // The copy has its own media; the original keeps its file.
    const fl::core::Take copied_take = doc.project().shots.front().takes.front();
    EXPECT_EQ(copied_take.file, "film-copy.media/" + mp4.filename().string());
    EXPECT_TRUE(fs::exists(dir_ / "film-copy.media" / mp4.filename()));
    EXPECT_TRUE(fs::exists(mp4));
    EXPECT_EQ(*fl::core::sha256_file(dir_ / "film-copy.media" / mp4.filename()), take.sha256);
    auto reloaded = fl::core::load_project(copy);
    ASSERT_TRUE(reloaded.ok()) << reloaded.message();
    EXPECT_EQ(fl::core::project_to_json(*reloaded), fl::core::project_to_json(doc.project()));
    ASSERT_TRUE(w.openProject(QString::fromStdString(copy.string())));
    EXPECT_EQ(fl::core::project_to_json(doc.project()), fl::core::project_to_json(*reloaded));
    EXPECT_TRUE(fs::exists(doc.resolve_media(doc.project().shots.front().takes.front().file)));
}

/// Every take of `project` (saved at `file`) has its media inside "<file>.media/", referenced relatively,
/// present on disk with the recorded hash; clips of takes name the same files.
void expect_self_contained(const fs::path& file) {
    auto loaded = fl::core::load_project(file);
    ASSERT_TRUE(loaded.ok()) << loaded.message();
    const fs::path media = file.parent_path() / (file.stem().string() + ".media");
    int takes = 0;
    for (const auto& shot : loaded->shots) {
        for (const auto& take : shot.takes) {
            ++takes;
            EXPECT_FALSE(fs::path(take.file).is_absolute()) << take.file;
            const fs::path mp4 = (file.parent_path() / take.file).lexically_normal();
            EXPECT_EQ(mp4.parent_path(), media) << take.file;
            ASSERT_TRUE(fs::exists(mp4)) << mp4;
            auto sha = fl::core::sha256_file(mp4);
            ASSERT_TRUE(sha.ok()) << sha.message();
            EXPECT_EQ(*sha, take.sha256) << mp4;
        }
    }
    EXPECT_GE(takes, 1);
    for (const auto& clip : loaded->sequence.tracks.front().clips) {
        const auto* shot = loaded->find_shot(clip.source.shot_id);
        ASSERT_NE(shot, nullptr);
        const auto* take = shot->find_take(clip.source.take_id);
        ASSERT_NE(take, nullptr);
        EXPECT_EQ(clip.source.file, take->file);
    }
}

TEST_F(StudioTest, NewProjectStartsWithOneShotReadyToGenerate) {
    MainWindow& w = new_window();
    fl::studio::ProjectDocument& doc = *w.document();
    fl::core::GenerationParams expected;
    auto card = fl::inference::ModelStore(fl::inference::ModelStore::default_roots()).find("default");
    ASSERT_TRUE(card.ok()) << card.message();
    expected = fl::inference::default_params(*card);
    EXPECT_EQ(w.shotDefaults(), expected);
    expected.prompt = "a red circle moving left on a black background";

    const auto check_starter = [&] {
        ASSERT_EQ(doc.project().shots.size(), 1u);
        const fl::core::Shot& shot = doc.project().shots.front();
        EXPECT_EQ(shot.name, "Shot 1");
        EXPECT_EQ(shot.params, expected);
        EXPECT_TRUE(shot.params.validate().ok());
        EXPECT_TRUE(shot.takes.empty());
        EXPECT_EQ(w.currentShot().toStdString(), shot.id);
        auto* shots = w.findChild<QListWidget*>("shotList");
        ASSERT_NE(shots, nullptr);
        ASSERT_EQ(shots->count(), 1);
        ASSERT_NE(shots->currentItem(), nullptr);
        EXPECT_EQ(shots->currentItem()->text().toStdString(), "Shot 1");
        EXPECT_TRUE(action("actionGenerate")->isEnabled());
        EXPECT_TRUE(w.findChild<QPushButton*>("generateButton")->isEnabled());
        EXPECT_FALSE(doc.is_modified());
        EXPECT_FALSE(w.isWindowModified());
        EXPECT_FALSE(action("actionUndo")->isEnabled());
        EXPECT_TRUE(doc.path().empty());
        expect_invariants();
    };
    check_starter();

    // The jobs panel says what it is for while it is empty.
    auto* heading = w.jobsPanel()->findChild<QLabel*>("jobsHeading");
    ASSERT_NE(heading, nullptr);
    EXPECT_EQ(heading->text().toStdString(), "Jobs");
    EXPECT_TRUE(heading->isVisible());
    auto* hint = w.jobsPanel()->findChild<QLabel*>("jobsEmptyHint");
    ASSERT_NE(hint, nullptr);
    EXPECT_EQ(hint->text().toStdString(), "Generated shots appear here while they run");
    EXPECT_TRUE(hint->isVisible());
    EXPECT_TRUE(w.jobsPanel()->emptyHintShown());

    // New shot starts from the default model's settings too (no prompt yet), as one undo step.
    action("actionNewShot")->trigger();
    ASSERT_EQ(doc.project().shots.size(), 2u);
    EXPECT_EQ(doc.project().shots.back().name, "Shot 2");
    fl::core::GenerationParams blank = expected;
    blank.prompt.clear();
    EXPECT_EQ(doc.project().shots.back().params, blank);
    EXPECT_EQ(w.currentShot().toStdString(), doc.project().shots.back().id);
    EXPECT_TRUE(doc.is_modified());
    expect_invariants();

    // File ▸ New (discarding the change) starts over with the same ready shot.
    w.setUnsavedAnswer(QMessageBox::Discard);
    action("actionNew")->trigger();
    check_starter();
}

TEST_F(StudioTest, SaveAsCopiesMediaAndLosesNothing) {
    MainWindow& w = new_window();
    fl::studio::ProjectDocument& doc = *w.document();
    ASSERT_EQ(doc.project().shots.size(), 1u);
    fl::core::GenerationParams params = doc.project().shots.front().params;
    params.steps = 2;
    params.width = 64;
    params.height = 64;
    params.frames = 16;
    ASSERT_TRUE(doc.push(fl::core::make_set_shot_params(doc.project().shots.front().id, params)).ok());

    // Generated before the first save: the take lives in the unsaved-media folder, referenced absolutely.
    auto [job, applied] = generate_and_wait();
    ASSERT_TRUE(applied) << w.jobsPanel()->errorText(job).toStdString();
    EXPECT_FALSE(w.jobsPanel()->emptyHintShown());
    const fl::core::Take unsaved_take = doc.project().shots.front().takes.front();
    const fs::path temp_mp4(unsaved_take.file);
    EXPECT_TRUE(temp_mp4.is_absolute());
    EXPECT_EQ(temp_mp4.parent_path(), doc.unsaved_media_dir());
    ASSERT_TRUE(fs::exists(temp_mp4));

    // A failed Save As (the media folder's name is taken by a file) changes nothing, in memory or on disk.
    const fs::path c = dir_ / "C";
    fs::create_directories(c);
    { std::ofstream(c / "film.media") << "not a folder"; }
    const std::string before = fl::core::project_to_json(doc.project());
    EXPECT_FALSE(w.saveProjectAs(QString::fromStdString((c / "film.flproj").string())));
    EXPECT_FALSE(w.lastError().isEmpty());
    EXPECT_FALSE(w.lastError().contains('\n')) << w.lastError().toStdString();
    EXPECT_EQ(fl::core::project_to_json(doc.project()), before);
    EXPECT_TRUE(doc.path().empty());
    EXPECT_TRUE(doc.is_modified());
    EXPECT_FALSE(fs::exists(c / "film.flproj"));
    EXPECT_TRUE(fs::is_regular_file(c / "film.media"));

    // First save: the take is copied into A/film.media/ and referenced relatively.
    const fs::path a = dir_ / "A";
    fs::create_directories(a);
    ASSERT_TRUE(w.saveProjectAs(QString::fromStdString((a / "film.flproj").string())))
        << w.lastError().toStdString();
    EXPECT_FALSE(doc.is_modified());
    const fl::core::Take saved_take = doc.project().shots.front().takes.front();
    EXPECT_EQ(saved_take.file, "film.media/" + temp_mp4.filename().string());
    EXPECT_EQ(saved_take.sha256, unsaved_take.sha256);
    EXPECT_EQ(doc.project().sequence.tracks.front().clips.front().source.file, saved_take.file);
    EXPECT_EQ(doc.resolve_media(saved_take.file), a / "film.media" / temp_mp4.filename());
    expect_invariants();
    expect_self_contained(a / "film.flproj");
    EXPECT_TRUE(fs::exists(temp_mp4));  // copied, not moved: the unsaved folder goes at exit
    // A first save keeps the history: the references it holds were absolute.
    EXPECT_TRUE(action("actionUndo")->isEnabled());

    // A take that lands in the unsaved folder after the first save (its job started before) is copied
    // in by the next plain Save.
    const fs::path late = doc.unsaved_media_dir() / "late.mp4";
    fs::copy_file(temp_mp4, late);
    fl::core::Take late_take = unsaved_take;
    late_take.id.clear();
    late_take.file = doc.media_reference(late);
    EXPECT_EQ(late_take.file, late.string());
    ASSERT_TRUE(doc.push(fl::core::make_add_take(doc.project().shots.front().id, late_take)).ok());
    ASSERT_TRUE(w.saveProject()) << w.lastError().toStdString();
    EXPECT_EQ(doc.project().shots.front().takes.back().file, "film.media/late.mp4");
    EXPECT_TRUE(fs::exists(a / "film.media" / "late.mp4"));
    expect_self_contained(a / "film.flproj");

    // Save As into another folder: B gets its own copies, A keeps its own.
    const fs::path b = dir_ / "B";
    fs::create_directories(b);
    const std::string a_bytes = read_bytes(a / "film.flproj");
    ASSERT_TRUE(w.saveProjectAs(QString::fromStdString((b / "cut.flproj").string())))
        << w.lastError().toStdString();
    EXPECT_EQ(doc.path(), b / "cut.flproj");
    EXPECT_EQ(doc.project().shots.front().takes.front().file, "cut.media/" + temp_mp4.filename().string());
    expect_invariants();
    expect_self_contained(b / "cut.flproj");
    expect_self_contained(a / "film.flproj");
    EXPECT_EQ(read_bytes(a / "film.flproj"), a_bytes);
    // History written for A's folder would restore paths that mean nothing in B, so it starts afresh.
    EXPECT_FALSE(action("actionUndo")->isEnabled());
    EXPECT_FALSE(doc.is_modified());

    // Reopening B shows the take, and saving again in place copies nothing more.
    ASSERT_TRUE(w.openProject(QString::fromStdString((b / "cut.flproj").string())));
    const fs::path reopened = doc.resolve_media(doc.project().shots.front().takes.front().file);
    EXPECT_EQ(reopened, b / "cut.media" / temp_mp4.filename());
    ASSERT_TRUE(w.saveProject()) << w.lastError().toStdString();
    expect_self_contained(b / "cut.flproj");
    int files = 0;
    for (const auto& entry : fs::directory_iterator(b / "cut.media")) {
        (void)entry;
        ++files;
    }
    EXPECT_EQ(files, 2);

    // Closing the window removes the unsaved-media folder: nothing saved points into it.
    const fs::path unsaved = doc.unsaved_media_dir();
    window_.reset();
    EXPECT_FALSE(fs::exists(unsaved));
    expect_self_contained(b / "cut.flproj");
}

TEST_F(StudioTest, InspectorEditsAreOneMergedUndoStep) {
    MainWindow& w = open_window(write_project());
    select_first_shot();
    auto* steps = w.findChild<QSpinBox*>("steps");
    auto* frames = w.findChild<QSpinBox*>("frames");
    ASSERT_NE(steps, nullptr);
    ASSERT_NE(frames, nullptr);
    EXPECT_EQ(steps->value(), 2);
    steps->setValue(3);
    steps->setValue(4);
    frames->setValue(8);
    const auto& params = w.document()->project().shots.front().params;
    EXPECT_EQ(params.steps, 4);
    EXPECT_EQ(params.frames, 8);
    EXPECT_TRUE(w.document()->is_modified());
    action("actionUndo")->trigger();
    EXPECT_EQ(w.document()->project().shots.front().params.steps, 2);
    EXPECT_EQ(w.document()->project().shots.front().params.frames, 16);
    EXPECT_EQ(steps->value(), 2);  // the inspector follows undo
    EXPECT_FALSE(w.document()->is_modified());

    // New shot is undoable too.
    action("actionNewShot")->trigger();
    EXPECT_EQ(w.document()->project().shots.size(), 2u);
    EXPECT_EQ(w.currentShot().toStdString(), w.document()->project().shots.back().id);
    action("actionUndo")->trigger();
    EXPECT_EQ(w.document()->project().shots.size(), 1u);
    expect_invariants();
}

TEST_F(StudioTest, InspectorPicksSamplerAndModelUndoably) {
    MainWindow& w = open_window(write_project());
    select_first_shot();
    auto* sampler = w.findChild<QComboBox*>("sampler");
    auto* model = w.findChild<QComboBox*>("model");
    ASSERT_NE(sampler, nullptr);
    ASSERT_NE(model, nullptr);
    EXPECT_EQ(sampler->currentText().toStdString(), "euler");
    EXPECT_GE(model->findText("shapes-tiny"), 0);  // the installed default model is offered
    sampler->setCurrentIndex(sampler->findText("unipc"));
    model->setCurrentIndex(model->findText("shapes-tiny"));
    EXPECT_EQ(w.document()->project().shots.front().params.sampler, "unipc");
    EXPECT_EQ(w.document()->project().shots.front().params.model, "shapes-tiny");
    action("actionUndo")->trigger();
    EXPECT_EQ(w.document()->project().shots.front().params.sampler, "euler");
    EXPECT_EQ(sampler->currentText().toStdString(), "euler");
    expect_invariants();
}

TEST_F(StudioTest, GenerationShowsTheStepPreviewOnItsJobRow) {
    MainWindow& w = open_window(write_project(/*steps=*/3));
    select_first_shot();
    auto [job, applied] = generate_and_wait();
    ASSERT_NE(job, 0u);
    ASSERT_TRUE(applied) << w.jobsPanel()->errorText(job).toStdString();
    auto* row = w.jobsPanel()->findChild<QWidget*>(QStringLiteral("jobRow-%1").arg(job));
    ASSERT_NE(row, nullptr);
    auto* preview = row->findChild<QLabel*>("stepPreview");
    ASSERT_NE(preview, nullptr);
    // Done, the row keeps the last step's estimate: a 64x64 frame shown 48 px high, not a blank image.
    EXPECT_FALSE(preview->isHidden());
    const QPixmap pixmap = preview->pixmap();
    ASSERT_FALSE(pixmap.isNull());
    EXPECT_EQ(pixmap.height(), 48);
    EXPECT_EQ(pixmap.width(), 48);
    const QImage image = pixmap.toImage();
    bool varied = false;
    for (int y = 0; y < image.height() && !varied; ++y)
        for (int x = 0; x < image.width() && !varied; ++x) varied = image.pixel(x, y) != image.pixel(0, 0);
    EXPECT_TRUE(varied) << "the preview is one flat colour";
    EXPECT_TRUE(preview->toolTip().contains("3/3")) << preview->toolTip().toStdString();
    EXPECT_EQ(w.jobsPanel()->previewPixmap(job).cacheKey(), pixmap.cacheKey());
}

TEST(ThrottlePreviews, PassesTheFirstAndLastStepAndThinsTheRest) {
    std::vector<int> seen;
    auto sink = [&](int step, int, const fl::core::Video&) { seen.push_back(step); };
    const fl::core::Video frame;
    auto slow = fl::studio::throttle_previews(sink, std::chrono::hours(1));
    for (int step = 1; step <= 5; ++step) slow(step, 5, frame);
    EXPECT_EQ(seen, (std::vector<int>{1, 5}));
    seen.clear();
    auto every = fl::studio::throttle_previews(sink, std::chrono::milliseconds(0));
    for (int step = 1; step <= 3; ++step) every(step, 3, frame);
    EXPECT_EQ(seen, (std::vector<int>{1, 2, 3}));
    EXPECT_FALSE(fl::studio::throttle_previews({}, std::chrono::milliseconds(0)));
}

TEST_F(StudioTest, CancelLeavesTheProjectAsItWas) {
    MainWindow& w =
        open_window(write_project(/*steps=*/1000));  // far more than it runs: cancelled at the first step
    select_first_shot();
    const std::string before = fl::core::project_to_json(w.document()->project());
    QSignalSpy finished(&w, &MainWindow::generationFinished);
    const quint64 job = w.generate();
    ASSERT_NE(job, 0u) << w.lastError().toStdString();
    // Cancel from the job row's button once sampling has started.
    ASSERT_TRUE(wait_until([&] { return w.jobsPanel()->labelText(job).startsWith("step"); }, kJobTimeoutMs))
        << "state " << w.jobsPanel()->stateText(job).toStdString() << ", label "
        << w.jobsPanel()->labelText(job).toStdString() << ", error "
        << w.jobsPanel()->errorText(job).toStdString();
    auto* row = w.jobsPanel()->findChild<QWidget*>(QStringLiteral("jobRow-%1").arg(job));
    ASSERT_NE(row, nullptr);
    auto* cancel = row->findChild<QPushButton*>("cancel");
    ASSERT_NE(cancel, nullptr);
    ASSERT_TRUE(cancel->isEnabled());
    cancel->click();
    ASSERT_TRUE(wait_until([&] { return finished.count() > 0; }, kJobTimeoutMs));
    EXPECT_FALSE(finished.at(0).at(1).toBool());
    EXPECT_EQ(w.jobsPanel()->stateText(job).toStdString(), "cancelled");
    EXPECT_FALSE(cancel->isEnabled());
    EXPECT_EQ(fl::core::project_to_json(w.document()->project()), before);
    EXPECT_FALSE(w.document()->is_modified());
    // Nothing half-written is left behind.
    const fs::path media = dir_ / "film.media";
    if (fs::exists(media)) {
        for (const auto& entry : fs::directory_iterator(media))
            ADD_FAILURE() << "left over: " << entry.path();
    }
}

TEST_F(StudioTest, FailedGenerationShowsTheErrorOnTheJobRowAndChangesNothing) {
    MainWindow& w = open_window(write_project());
    select_first_shot();
    fl::core::GenerationParams params = w.document()->project().shots.front().params;
    params.model = "no-such-model";
    ASSERT_TRUE(
        w.document()->push(fl::core::make_set_shot_params(w.currentShot().toStdString(), params)).ok());
    const std::string before = fl::core::project_to_json(w.document()->project());
    auto [job, applied] = generate_and_wait();
    ASSERT_NE(job, 0u);
    EXPECT_FALSE(applied);
    EXPECT_EQ(w.jobsPanel()->stateText(job).toStdString(), "failed");
    const QString error = w.jobsPanel()->errorText(job);
    EXPECT_TRUE(error.contains("no-such-model")) << error.toStdString();
    EXPECT_EQ(fl::core::project_to_json(w.document()->project()), before);
    EXPECT_FALSE(fs::exists(dir_ / "film.media") && !fs::is_empty(dir_ / "film.media"));

    // An invalid shot is refused before any job is queued, with the engine's message.
    params.model = "default";
    params.prompt.clear();
    ASSERT_TRUE(
        w.document()->push(fl::core::make_set_shot_params(w.currentShot().toStdString(), params)).ok());
    const int rows = w.jobsPanel()->count();
    EXPECT_EQ(w.generate(), 0u);
    EXPECT_TRUE(w.lastError().contains("prompt")) << w.lastError().toStdString();
    EXPECT_EQ(w.jobsPanel()->count(), rows);
}

TEST_F(StudioTest, BadProjectFileShowsOneLineErrorAndIsUntouched) {
    const fs::path good = write_project();
    MainWindow& w = open_window(good);
    const std::string before = fl::core::project_to_json(w.document()->project());

    const fs::path bad = dir_ / "bad.flproj";
    {
        std::ofstream out(bad, std::ios::binary);
        out << "{\"schema_version\": 1, \"shots\": [ {\"id\": 3 ";
    }
    const std::string bytes = read_bytes(bad);
    const auto mtime = fs::last_write_time(bad);
    EXPECT_FALSE(w.openProject(QString::fromStdString(bad.string())));
    const QString error = w.lastError();
    EXPECT_FALSE(error.isEmpty());
    EXPECT_FALSE(error.contains('\n')) << error.toStdString();
    EXPECT_EQ(read_bytes(bad), bytes);
    EXPECT_EQ(fs::last_write_time(bad), mtime);
    // The project that was open stays open.
    EXPECT_EQ(w.document()->path(), good);
    EXPECT_EQ(fl::core::project_to_json(w.document()->project()), before);

    // A missing file is an error too, not a crash.
    EXPECT_FALSE(w.openProject(QString::fromStdString((dir_ / "missing.flproj").string())));
    EXPECT_FALSE(w.lastError().isEmpty());
}

}  // namespace
