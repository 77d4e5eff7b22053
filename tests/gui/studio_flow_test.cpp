// The studio's storyboard, takes and autosave driven as a user would, under QT_QPA_PLATFORM=offscreen:
// shot cards (add, duplicate, reorder by drop, delete, undo), Generate N with per-take scores and a pick,
// extending a take, last frame → next shot, the inspector's aspect presets, references and keyframes,
// and the autosave side file written and restored.
#include <gtest/gtest.h>
#include <unistd.h>

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDropEvent>
#include <QLineEdit>
#include <QListWidget>
#include <QMimeData>
#include <QPushButton>
#include <QSignalSpy>
#include <QTest>
#include <QUrl>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>

#include "frameloom/core/audio.h"
#include "frameloom/core/edit.h"
#include "frameloom/core/media_paths.h"
#include "frameloom/core/project.h"
#include "frameloom/core/project_file.h"
#include "frameloom/media/audio.h"
#include "frameloom/media/decode.h"
#include "frameloom/media/encode.h"
#include "frameloom/media/probe.h"
#include "support/studio_fixture.h"
#include "ui/export_dialog.h"
#include "ui/jobs_panel.h"
#include "ui/main_window.h"
#include "ui/preview_player.h"
#include "ui/project_document.h"
#include "ui/shot_inspector.h"
#include "ui/storyboard_panel.h"
#include "ui/takes_strip.h"
#include "ui/timeline_view.h"

namespace fs = std::filesystem;
using fl::studio::MainWindow;
using fl::studio::ShotCardList;
using fl::studio::TakesStrip;
using fl::test::wait_until;

namespace {

constexpr int kJobTimeoutMs = 60000;

/// Mean absolute difference of two frames of one size (8-bit levels); 255 when the sizes differ.
double mean_abs_diff(const fl::core::Frame& a, const fl::core::Frame& b) {
    if (a.width != b.width || a.height != b.height || a.rgb.size() != b.rgb.size()) return 255.0;
    double sum = 0.0;
    for (size_t i = 0; i < a.rgb.size(); ++i) sum += std::abs(int(a.rgb[i]) - int(b.rgb[i]));
    return sum / static_cast<double>(a.rgb.size());
}

class StudioFlowTest : public fl::test::StudioFixture {
protected:
    StudioFlowTest() : StudioFixture("fl-flow") {}

    /// A saved project with one shot asking for a small, fast clip of the default model.
    fs::path write_project() {
        fl::core::Project project = fl::test::one_shot_project();
        project.shots.front().params.width = 64;
        project.shots.front().params.height = 64;
        return fl::test::save_project_expect_ok(project, dir_ / "film.flproj");
    }

    MainWindow& open_window(const fs::path& project, std::function<bool(const QString&)> restore = {}) {
        window_ = std::make_unique<MainWindow>();
        window_->setInteractive(false);
        if (restore) window_->setRestorePrompt(std::move(restore));
        window_->show();
        EXPECT_TRUE(window_->openProject(QString::fromStdString(project.string())))
            << window_->lastError().toStdString();
        QCoreApplication::processEvents();
        return *window_;
    }

    /// Opens the standard project and generates its shot once; finished_ goes on counting generations.
    MainWindow& open_with_a_take() {
        MainWindow& w = open_window(write_project());
        finished_ = std::make_unique<QSignalSpy>(&w, &MainWindow::generationFinished);
        action("actionGenerate")->trigger();
        EXPECT_EQ(wait_generations(*finished_, 1), 1);
        return w;
    }
    std::unique_ptr<QSignalSpy> finished_;

    template <typename T>
    T* child(const char* name) {
        auto* w = window_->findChild<T*>(QString::fromLatin1(name));
        EXPECT_NE(w, nullptr) << name;
        return w;
    }

    QAction* action(const char* name) { return child<QAction>(name); }

    void click(const char* button) {
        auto* b = child<QPushButton>(button);
        ASSERT_NE(b, nullptr);
        ASSERT_TRUE(b->isEnabled()) << button << " is disabled";
        b->click();
    }

    /// Waits for `count` generation jobs to end; returns how many had their take applied.
    int wait_generations(QSignalSpy& finished, int count) {
        EXPECT_TRUE(wait_until([&] { return finished.count() >= count; }, kJobTimeoutMs))
            << "only " << finished.count() << " of " << count << " generations finished";
        int applied = 0;
        for (const auto& args : finished) applied += args.at(1).toBool() ? 1 : 0;
        return applied;
    }

    void expect_invariants() {
        auto ok = window_->document()->project().check_invariants();
        EXPECT_TRUE(ok.ok()) << ok.message();
    }

    std::vector<std::string> shot_names() const {
        std::vector<std::string> names;
        for (const auto& s : window_->document()->project().shots) names.push_back(s.name);
        return names;
    }

    std::vector<std::string> card_names() const {
        auto* list = window_->findChild<QListWidget*>("shotList");
        std::vector<std::string> names;
        for (int i = 0; list && i < list->count(); ++i) names.push_back(list->item(i)->text().toStdString());
        return names;
    }

    /// Drops the card at `from` onto the lower half of the card at `onto`, through the handler the list's
    /// dropEvent calls (offscreen Qt delivers no synthetic QDropEvent, so the event itself cannot be sent).
    void drop_card(int from, int onto) {
        auto* list = child<ShotCardList>("shotList");
        ASSERT_NE(list, nullptr);
        list->setCurrentRow(from);  // selecting a card rebuilds the list from the document
        QCoreApplication::processEvents();
        list->doItemsLayout();
        const QRect target = list->visualRect(list->model()->index(onto, 0));
        ASSERT_TRUE(target.isValid());
        const QPoint pos(target.center().x(), target.bottom() - 2);
        list->dropCurrentAt(pos);
    }
};

// The main flow, as a filmmaker goes: new project → storyboard of three shots → generate → pick takes →
// arrange on the timeline → add music → export, and the exported film is checked.
TEST_F(StudioFlowTest, NewProjectToExportedFilm) {
    window_ = std::make_unique<MainWindow>();
    window_->setInteractive(false);
    window_->setAutosaveInterval(0);
    window_->show();
    MainWindow& w = *window_;
    w.fileNew();
    fl::studio::ProjectDocument& doc = *w.document();
    ASSERT_TRUE(w.saveProjectAs(QString::fromStdString((dir_ / "film.flproj").string())))
        << w.lastError().toStdString();

    // Storyboard: the starter shot and two more, each with its own prompt.
    action("actionNewShot")->trigger();
    action("actionNewShot")->trigger();
    ASSERT_EQ(doc.project().shots.size(), 3u);
    const char* prompts[] = {"a red circle moving right on a dark blue background",
                             "a yellow triangle moving left on a dark blue background",
                             "a white square staying still on a black background"};
    std::vector<std::string> ids;
    for (size_t i = 0; i < 3; ++i) {
        fl::core::GenerationParams params = doc.project().shots[i].params;
        params.prompt = prompts[i];
        params.steps = 4;
        ids.push_back(doc.project().shots[i].id);
        ASSERT_TRUE(doc.push(fl::core::make_set_shot_params(ids[i], params)).ok());
    }

    // Generate each shot: each first take lands on the timeline, in storyboard order.
    QSignalSpy finished(&w, &MainWindow::generationFinished);
    for (const auto& id : ids) {
        w.selectShot(QString::fromStdString(id));
        action("actionGenerate")->trigger();
    }
    ASSERT_EQ(wait_generations(finished, 3), 3);
    const fl::core::Track& v1 = doc.project().sequence.tracks.front();
    ASSERT_EQ(v1.clips.size(), 3u);
    for (size_t i = 0; i < 3; ++i) EXPECT_EQ(v1.clips[i].source.shot_id, ids[i]);

    // Pick takes: a second take of the middle shot, picked; its clip shows it.
    w.selectShot(QString::fromStdString(ids[1]));
    ASSERT_EQ(w.generateVariations(1).size(), 1);
    ASSERT_EQ(wait_generations(finished, 4), 4);
    const std::string second_take = doc.project().find_shot(ids[1])->takes.back().id;
    ASSERT_TRUE(w.pickTake(QString::fromStdString(second_take))) << w.lastError().toStdString();
    EXPECT_EQ(doc.project().sequence.tracks.front().clips[1].source.take_id, second_take);

    // Arrange: a crossfade of 4 frames into the last clip, a fade-in on the first.
    fl::studio::TimelineView* view = w.timeline();
    const QString track = QString::fromStdString(v1.id);
    view->selectClip(track, QString::fromStdString(v1.clips[2].id));
    ASSERT_TRUE(view->setCrossfade(4));
    view->selectClip(track, QString::fromStdString(v1.clips[0].id));
    ASSERT_TRUE(view->setFades(4, 0));
    const fl::core::Track& arranged = doc.project().sequence.tracks.front();
    EXPECT_EQ(arranged.clips[2].transition_in, 4);
    EXPECT_EQ(arranged.overlap_before(2), 4);
    const int64_t film_frames = doc.project().sequence.duration();
    EXPECT_EQ(film_frames, arranged.clips[2].end());

    // Music: a 4-second tone from a file, at the start (the film's sound goes on silent after it).
    fl::core::Audio tone;
    tone.sample_rate = 48000;
    tone.channels = 2;
    for (int i = 0; i < 4 * 48000; ++i) {
        const float v = 0.2f * static_cast<float>(std::sin(2.0 * M_PI * 330.0 * i / 48000.0));
        tone.samples.insert(tone.samples.end(), {v, v});
    }
    ASSERT_TRUE(fl::media::write_wav(tone, dir_ / "music.wav").ok());
    view->setPlayhead(0);
    ASSERT_TRUE(view->addMusic(QString::fromStdString((dir_ / "music.wav").string())));
    EXPECT_EQ(doc.project().sequence.duration(), film_frames);
    expect_invariants();
    ASSERT_TRUE(w.saveProject());

    // Export: the whole film with its sound.
    action("actionExport")->trigger();
    fl::studio::ExportDialog* dialog = w.exportDialog();
    ASSERT_NE(dialog, nullptr);
    const fs::path film = dir_ / "film.mp4";
    dialog->setTargetPath(QString::fromStdString(film.string()));
    QSignalSpy exported(dialog, &fl::studio::ExportDialog::exportFinished);
    ASSERT_NE(dialog->startExport(), 0u);
    ASSERT_TRUE(wait_until([&] { return exported.count() > 0; }, kJobTimeoutMs));
    ASSERT_TRUE(exported.at(0).at(0).toBool()) << exported.at(0).at(1).toString().toStdString();
    auto info = fl::media::probe(film);
    ASSERT_TRUE(info.ok()) << info.message();
    EXPECT_EQ(info->frame_count, film_frames);
    EXPECT_EQ(info->width, doc.project().sequence.width);
    EXPECT_TRUE(info->has_audio);
    auto sound = fl::media::probe_audio_seconds(film);
    ASSERT_TRUE(sound.ok()) << sound.message();
    EXPECT_NEAR(*sound, static_cast<double>(film_frames) / doc.project().sequence.fps.to_double(), 0.1);
    // The first frame is black (the fade-in starts there); a frame of the middle shot is not.
    auto frames = fl::media::decode_video(film);
    ASSERT_TRUE(frames.ok());
    double first = 0, middle = 0;
    for (uint8_t v : frames->frames.front().rgb) first += v;
    for (uint8_t v : frames->frames[24].rgb) middle += v;
    EXPECT_LT(first / static_cast<double>(frames->frames.front().rgb.size()), 8.0);
    EXPECT_GT(middle, first);
}

TEST_F(StudioFlowTest, StoryboardAddDuplicateReorderDeleteWithUndo) {
    MainWindow& w = open_window(write_project());
    fl::studio::ProjectDocument& doc = *w.document();
    auto* cards = child<ShotCardList>("shotList");
    ASSERT_NE(cards, nullptr);
    ASSERT_EQ(cards->count(), 1);
    // A card shows name, prompt, duration and status.
    QListWidgetItem* first = cards->item(0);
    EXPECT_EQ(first->text().toStdString(), "Opening");
    EXPECT_EQ(first->data(ShotCardList::PromptRole).toString().toStdString(),
              "a red circle moving left on a black background");
    EXPECT_EQ(first->data(ShotCardList::DurationRole).toString().toStdString(), "2.0 s");
    EXPECT_EQ(first->data(ShotCardList::StatusRole).toString().toStdString(), "no take");

    click("newShotButton");
    ASSERT_EQ(shot_names(), (std::vector<std::string>{"Opening", "Shot 2"}));
    EXPECT_EQ(w.currentShot().toStdString(), doc.project().shots[1].id);
    click("duplicateShotButton");
    ASSERT_EQ(shot_names(), (std::vector<std::string>{"Opening", "Shot 2", "Shot 2 copy"}));
    EXPECT_EQ(w.currentShot().toStdString(), doc.project().shots[2].id);
    EXPECT_EQ(doc.project().shots[2].params, doc.project().shots[1].params);
    EXPECT_EQ(card_names(), shot_names());
    expect_invariants();

    // Drag "Opening" below the last card: it becomes the last shot, as one undo step.
    QCoreApplication::processEvents();
    drop_card(0, 2);
    EXPECT_EQ(shot_names(), (std::vector<std::string>{"Shot 2", "Shot 2 copy", "Opening"}));
    EXPECT_EQ(card_names(), shot_names());
    EXPECT_EQ(w.document()->undo_stack().undo_text(), "Move shot");
    expect_invariants();
    action("actionUndo")->trigger();
    EXPECT_EQ(shot_names(), (std::vector<std::string>{"Opening", "Shot 2", "Shot 2 copy"}));
    EXPECT_EQ(card_names(), shot_names());
    action("actionRedo")->trigger();
    EXPECT_EQ(shot_names(), (std::vector<std::string>{"Shot 2", "Shot 2 copy", "Opening"}));
    // Dropping a card where it already is changes nothing.
    const size_t history = doc.undo_stack().size();
    drop_card(1, 1);
    EXPECT_EQ(shot_names(), (std::vector<std::string>{"Shot 2", "Shot 2 copy", "Opening"}));
    EXPECT_EQ(doc.undo_stack().size(), history);

    // Delete the selected card; undo brings it back in place.
    cards->setCurrentRow(1);
    EXPECT_EQ(w.currentShot().toStdString(), doc.project().shots[1].id);
    click("deleteShotButton");
    EXPECT_EQ(shot_names(), (std::vector<std::string>{"Shot 2", "Opening"}));
    EXPECT_EQ(card_names(), shot_names());
    expect_invariants();
    action("actionUndo")->trigger();
    EXPECT_EQ(shot_names(), (std::vector<std::string>{"Shot 2", "Shot 2 copy", "Opening"}));
    // Undo all the way: the project as opened.
    while (action("actionUndo")->isEnabled()) action("actionUndo")->trigger();
    EXPECT_EQ(shot_names(), (std::vector<std::string>{"Opening"}));
    EXPECT_FALSE(doc.is_modified());
    expect_invariants();

    // A generation that fails marks its card "failed".
    fl::core::GenerationParams params = doc.project().shots.front().params;
    params.model = "no-such-model";
    ASSERT_TRUE(doc.push(fl::core::make_set_shot_params(doc.project().shots.front().id, params)).ok());
    QSignalSpy finished(&w, &MainWindow::generationFinished);
    action("actionGenerate")->trigger();
    EXPECT_EQ(wait_generations(finished, 1), 0);
    EXPECT_EQ(cards->item(0)->data(ShotCardList::StatusRole).toString().toStdString(), "failed");
}

TEST_F(StudioFlowTest, GenerateTwoTakesScoresThemAndPicksOne) {
    MainWindow& w = open_window(write_project());
    fl::studio::ProjectDocument& doc = *w.document();
    const std::string shot_id = doc.project().shots.front().id;
    auto* strip = w.takesStrip();
    strip->setVariationCount(2);
    QSignalSpy finished(&w, &MainWindow::generationFinished);
    click("generateVariationsButton");
    auto* cards = child<ShotCardList>("shotList");
    EXPECT_EQ(cards->item(0)->data(ShotCardList::StatusRole).toString().toStdString(), "generating");
    ASSERT_EQ(wait_generations(finished, 2), 2);

    const fl::core::Shot& shot = doc.project().shots.front();
    ASSERT_EQ(shot.takes.size(), 2u);
    const fl::core::Take a = shot.takes[0];
    const fl::core::Take b = shot.takes[1];
    EXPECT_EQ(a.params.seed, 7u);  // seed locked: seed, seed + 1
    EXPECT_EQ(b.params.seed, 8u);
    // The first take went onto the timeline; the second joined the shot without changing the pick.
    EXPECT_EQ(shot.selected_take, a.id);
    const auto& clips = doc.project().sequence.tracks.front().clips;
    ASSERT_EQ(clips.size(), 1u);
    EXPECT_EQ(clips.front().source.take_id, a.id);
    EXPECT_EQ(cards->item(0)->data(ShotCardList::StatusRole).toString().toStdString(), "has takes");
    EXPECT_FALSE(cards->item(0)->data(Qt::DecorationRole).value<QPixmap>().isNull());  // thumbnail
    expect_invariants();

    // Both takes were measured on the worker; the best one is marked on its card.
    ASSERT_EQ(w.takeScores().count(a.id), 1u);
    ASSERT_EQ(w.takeScores().count(b.id), 1u);
    for (const auto& id : {a.id, b.id}) {
        const auto& s = w.takeScores().at(id);
        EXPECT_GE(s.flicker, 0.0);
        EXPECT_GE(s.warp_error, 0.0);
        EXPECT_TRUE(std::isfinite(s.flicker) && std::isfinite(s.warp_error));
        EXPECT_FALSE(s.identity.has_value());  // the shot has no references
    }
    const QString best = w.bestTake(QString::fromStdString(shot_id));
    EXPECT_TRUE(best.toStdString() == a.id || best.toStdString() == b.id) << best.toStdString();
    QListWidget* takes = strip->list();
    ASSERT_EQ(takes->count(), 2);
    int best_cards = 0;
    for (int i = 0; i < takes->count(); ++i) {
        QListWidgetItem* item = takes->item(i);
        EXPECT_TRUE(item->data(TakesStrip::ScoreRole).toString().startsWith("flicker "))
            << item->text().toStdString();
        EXPECT_FALSE(item->icon().isNull());
        if (item->data(TakesStrip::BestRole).toBool()) {
            ++best_cards;
            EXPECT_EQ(item->data(TakesStrip::IdRole).toString(), best);
            EXPECT_TRUE(item->text().contains("best"));
        }
    }
    EXPECT_EQ(best_cards, 1);
    // For docs: FL_SCREENSHOT_DIR=... writes what the window shows now (storyboard, takes, scores).
    if (qEnvironmentVariableIsSet("FL_SCREENSHOT_DIR")) {
        const QString out = qEnvironmentVariable("FL_SCREENSHOT_DIR") + QStringLiteral("/studio-takes.png");
        EXPECT_TRUE(w.grab().save(out)) << out.toStdString();
    }

    // Play the second take, then pick it: the shot's clip switches to it, as one undo step.
    takes->setCurrentRow(1);
    emit takes->itemClicked(takes->item(1));
    EXPECT_FALSE(w.preview()->isSequence());
    EXPECT_EQ(w.preview()->frameCount(), 16);
    click("pickTakeButton");
    EXPECT_EQ(doc.project().shots.front().selected_take, b.id);
    ASSERT_EQ(doc.project().sequence.tracks.front().clips.size(), 1u);
    EXPECT_EQ(doc.project().sequence.tracks.front().clips.front().source.take_id, b.id);
    EXPECT_EQ(doc.project().sequence.tracks.front().clips.front().duration(), 16);
    expect_invariants();
    action("actionUndo")->trigger();
    EXPECT_EQ(doc.project().shots.front().selected_take, a.id);
    EXPECT_EQ(doc.project().sequence.tracks.front().clips.front().source.take_id, a.id);
    action("actionRedo")->trigger();
    EXPECT_EQ(doc.project().sequence.tracks.front().clips.front().source.take_id, b.id);
    // Picking it again is refused with a message, and changes nothing.
    EXPECT_FALSE(w.pickTake(QString::fromStdString(b.id)));
    EXPECT_TRUE(w.lastError().contains("already")) << w.lastError().toStdString();

    // Scores live in the session: after a reopen, Shot ▸ Score takes measures the takes again in the
    // background, to the same values, and the best take is marked again.
    const auto before = w.takeScores();
    ASSERT_TRUE(w.saveProject()) << w.lastError().toStdString();
    ASSERT_TRUE(w.openProject(QString::fromStdString((dir_ / "film.flproj").string())));
    EXPECT_TRUE(w.takeScores().empty());
    EXPECT_TRUE(w.bestTake(QString::fromStdString(shot_id)).isEmpty());
    QSignalSpy scored(&w, &MainWindow::scoringFinished);
    action("actionScoreTakes")->trigger();
    ASSERT_TRUE(wait_until([&] { return scored.count() > 0; }, kJobTimeoutMs));
    ASSERT_EQ(w.takeScores().size(), 2u);
    // Decoded from the MP4 rather than measured on the generated frames: close, not identical.
    for (const auto& id : {a.id, b.id}) {
        EXPECT_NEAR(w.takeScores().at(id).flicker, before.at(id).flicker, 0.5 + 0.5 * before.at(id).flicker);
        EXPECT_NEAR(w.takeScores().at(id).warp_error, before.at(id).warp_error,
                    1.0 + 0.5 * before.at(id).warp_error);
    }
    EXPECT_FALSE(w.bestTake(QString::fromStdString(shot_id)).isEmpty());
}

TEST_F(StudioFlowTest, ExtendTakeStartsWithTheSource) {
    MainWindow& w = open_with_a_take();
    ASSERT_FALSE(HasFailure());
    fl::studio::ProjectDocument& doc = *w.document();
    QSignalSpy& finished = *finished_;
    const fl::core::Take source = doc.project().shots.front().takes.front();

    w.takesStrip()->list()->setCurrentRow(0);
    click("extendTakeButton");
    ASSERT_EQ(wait_generations(finished, 2), 2)
        << w.jobsPanel()->errorText(finished.at(1).at(0).toULongLong()).toStdString();
    const fl::core::Shot& shot = doc.project().shots.front();
    ASSERT_EQ(shot.takes.size(), 2u);
    const fl::core::Take extended = shot.takes[1];
    EXPECT_EQ(extended.params.conditioning.extend, source.file);
    EXPECT_TRUE(extended.params.conditioning.keep_source);
    EXPECT_TRUE(extended.params.conditioning.first_frame.empty());
    EXPECT_EQ(shot.selected_take, source.id);  // the pick stays until the user picks the extension
    EXPECT_EQ(doc.project().sequence.tracks.front().clips.size(), 1u);
    expect_invariants();

    // The extension is longer than its source and starts with it.
    auto source_video = fl::media::decode_video(doc.resolve_media(source.file));
    auto extended_video = fl::media::decode_video(doc.resolve_media(extended.file));
    ASSERT_TRUE(source_video.ok()) << source_video.message();
    ASSERT_TRUE(extended_video.ok()) << extended_video.message();
    EXPECT_GT(extended_video->frame_count(), source_video->frame_count());
    // Every frame of the source comes first (up to two rounds of H.264 loss on a 64 px clip).
    for (int64_t i = 0; i < source_video->frame_count(); ++i)
        EXPECT_LT(mean_abs_diff(extended_video->frames[static_cast<size_t>(i)],
                                source_video->frames[static_cast<size_t>(i)]),
                  12.0)
            << "frame " << i;
    EXPECT_EQ(w.takeScores().count(extended.id), 1u);
    EXPECT_TRUE(w.takesStrip()->list()->item(1)->text().contains("extended"));
    // The join is scored (after the source's frames) and shown on the take; a plain take has no seam.
    const auto& extended_scores = w.takeScores().at(extended.id);
    ASSERT_TRUE(extended_scores.extension_seam.has_value());
    EXPECT_GE(extended_scores.extension_seam->delta_e, 0.0);
    EXPECT_FALSE(w.takeScores().at(source.id).extension_seam.has_value());
    EXPECT_TRUE(w.takesStrip()->list()->item(1)->text().contains("seam"));

    // Without the consistency stage's correction the same continuation (same seed) comes out differently:
    // the correction ran on the first one.
    w.takesStrip()->setCorrectExtensions(false);
    EXPECT_FALSE(child<QCheckBox>("correctExtension")->isChecked());
    w.takesStrip()->list()->setCurrentRow(0);
    click("extendTakeButton");
    ASSERT_EQ(wait_generations(finished, 3), 3);
    ASSERT_EQ(doc.project().shots.front().takes.size(), 3u);
    const fl::core::Take uncorrected = doc.project().shots.front().takes[2];
    EXPECT_EQ(uncorrected.params, extended.params);
    EXPECT_NE(uncorrected.sha256, extended.sha256);
    auto uncorrected_video = fl::media::decode_video(doc.resolve_media(uncorrected.file));
    ASSERT_TRUE(uncorrected_video.ok());
    EXPECT_EQ(uncorrected_video->frame_count(), extended_video->frame_count());
    EXPECT_LT(mean_abs_diff(uncorrected_video->frames.front(), extended_video->frames.front()),
              1.0);  // same source

    // Picking the extension lengthens the shot's clip to the whole extended take.
    ASSERT_TRUE(w.pickTake(QString::fromStdString(extended.id))) << w.lastError().toStdString();
    EXPECT_EQ(doc.project().sequence.tracks.front().clips.front().duration(), extended_video->frame_count());
    expect_invariants();
}

TEST_F(StudioFlowTest, ExtendBySecondsChainsPassesOfTheModel) {
    MainWindow& w = open_with_a_take();
    ASSERT_FALSE(HasFailure());
    fl::studio::ProjectDocument& doc = *w.document();
    QSignalSpy& finished = *finished_;
    const fl::core::Take source = doc.project().shots.front().takes.front();
    auto source_video = fl::media::decode_video(doc.resolve_media(source.file));
    ASSERT_TRUE(source_video.ok());

    w.takesStrip()->setExtendSeconds(2.5);  // 20 frames at 8 fps: two passes of the default model
    w.takesStrip()->list()->setCurrentRow(0);
    click("extendTakeButton");
    ASSERT_EQ(wait_generations(finished, 2), 2)
        << w.jobsPanel()->errorText(finished.at(1).at(0).toULongLong()).toStdString();
    const fl::core::Take extended = doc.project().shots.front().takes.back();
    const int64_t frames = std::llround(2.5 * extended.params.fps.to_double());
    EXPECT_EQ(extended.params.conditioning.extend_frames, frames);
    auto video = fl::media::decode_video(doc.resolve_media(extended.file));
    ASSERT_TRUE(video.ok());
    EXPECT_EQ(video->frame_count(), source_video->frame_count() + frames);
    expect_invariants();
}

TEST_F(StudioFlowTest, LastFrameBecomesTheNextShotsFirstFrame) {
    MainWindow& w = open_with_a_take();
    ASSERT_FALSE(HasFailure());
    fl::studio::ProjectDocument& doc = *w.document();
    QSignalSpy& finished = *finished_;
    const std::string first_shot = doc.project().shots.front().id;
    const fl::core::Take take = doc.project().shots.front().takes.front();

    // The last shot: a new shot is made after it, starting from the exported frame.
    click("lastFrameToNextButton");
    ASSERT_EQ(doc.project().shots.size(), 2u);
    const fl::core::Shot& next = doc.project().shots[1];
    EXPECT_EQ(w.currentShot().toStdString(), next.id);
    const std::string png = next.params.conditioning.first_frame;
    ASSERT_FALSE(png.empty());
    EXPECT_FALSE(fs::path(png).is_absolute()) << png;  // inside the project's media folder
    const fs::path png_file = doc.resolve_media(png);
    EXPECT_EQ(png_file.parent_path(), dir_ / "film.media");
    auto video = fl::media::decode_video(doc.resolve_media(take.file));
    auto image = fl::media::decode_image(png_file);
    ASSERT_TRUE(video.ok() && image.ok());
    EXPECT_EQ(image->rgb, video->frames.back().rgb);  // PNG is lossless
    expect_invariants();
    action("actionUndo")->trigger();
    EXPECT_EQ(doc.project().shots.size(), 1u);

    // With a next shot, that shot's first frame is set (one undo step), and it generates from it.
    action("actionNewShot")->trigger();
    ASSERT_EQ(doc.project().shots.size(), 2u);
    const std::string second = doc.project().shots[1].id;
    w.selectShot(QString::fromStdString(first_shot));
    ASSERT_TRUE(w.useLastFrameForNextShot(QString::fromStdString(take.id))) << w.lastError().toStdString();
    ASSERT_EQ(doc.project().shots.size(), 2u);
    EXPECT_EQ(doc.project().shots[1].params.conditioning.first_frame, png);
    EXPECT_EQ(w.currentShot().toStdString(), second);
    fl::core::GenerationParams params = doc.project().shots[1].params;
    params.prompt = "a red circle moving left on a black background";
    params.steps = 2;
    ASSERT_TRUE(doc.push(fl::core::make_set_shot_params(second, params)).ok());
    action("actionGenerate")->trigger();
    ASSERT_EQ(wait_generations(finished, 2), 2)
        << w.jobsPanel()->errorText(finished.at(1).at(0).toULongLong()).toStdString();
    ASSERT_EQ(doc.project().shots[1].takes.size(), 1u);
    auto generated = fl::media::decode_video(doc.resolve_media(doc.project().shots[1].takes[0].file));
    ASSERT_TRUE(generated.ok());
    // Frame 0 of the new shot is the exported frame (up to H.264 loss).
    EXPECT_LT(mean_abs_diff(generated->frames.front(), *image), 12.0);
}

TEST_F(StudioFlowTest, RemixKeepsTheTakesSeedForAnEditedPrompt) {
    MainWindow& w = open_window(write_project());
    fl::studio::ProjectDocument& doc = *w.document();
    QSignalSpy finished(&w, &MainWindow::generationFinished);
    child<QCheckBox>("seedLock")->setChecked(false);  // the first take draws its own seed
    action("actionGenerate")->trigger();
    ASSERT_EQ(wait_generations(finished, 1), 1);
    const fl::core::Take take = doc.project().shots.front().takes.front();
    const fl::core::GenerationParams before = doc.project().shots.front().params;

    w.takesStrip()->list()->setCurrentRow(0);
    click("remixTakeButton");
    const std::string shot_id = doc.project().shots.front().id;
    EXPECT_EQ(doc.project().shots.front().params, take.params);  // the take's settings, its seed included
    EXPECT_TRUE(child<QCheckBox>("seedLock")->isChecked());
    action("actionUndo")->trigger();
    EXPECT_EQ(doc.project().shots.front().params, before);  // one undo step
    action("actionRedo")->trigger();

    // Edit the prompt and generate: the same seed, the new prompt.
    fl::core::GenerationParams edited = doc.project().shots.front().params;
    edited.prompt = "a green circle moving right on a black background";
    ASSERT_TRUE(doc.push(fl::core::make_set_shot_params(shot_id, edited)).ok());
    action("actionGenerate")->trigger();
    ASSERT_EQ(wait_generations(finished, 2), 2)
        << w.jobsPanel()->errorText(finished.at(1).at(0).toULongLong()).toStdString();
    const fl::core::Take remix = doc.project().shots.front().takes.back();
    EXPECT_EQ(remix.params.seed, take.params.seed);
    EXPECT_EQ(remix.params.prompt, edited.prompt);
    expect_invariants();
}

TEST_F(StudioFlowTest, PreviewFrameBecomesAKeyframeOfTheSelectedShot) {
    MainWindow& w = open_with_a_take();
    ASSERT_FALSE(HasFailure());
    fl::studio::ProjectDocument& doc = *w.document();
    const fl::core::Shot shot = doc.project().shots.front();
    const fl::core::Take take = shot.takes.front();

    // Frame 5 of the take, shown in the preview, becomes the shot's last keyframe (Shot menu).
    w.previewTake(QString::fromStdString(take.id));
    w.preview()->seek(5);
    const QImage shown = w.preview()->image().convertToFormat(QImage::Format_RGB888);
    ASSERT_FALSE(shown.isNull());
    action("actionFrameToLast")->trigger();
    const std::string last = doc.project().shots.front().params.conditioning.last_frame;
    ASSERT_FALSE(last.empty()) << w.lastError().toStdString();
    auto image = fl::media::decode_image(doc.resolve_media(last));
    ASSERT_TRUE(image.ok()) << image.message();
    ASSERT_EQ(image->width, shown.width());
    for (int y = 0; y < shown.height(); ++y)
        ASSERT_EQ(0, std::memcmp(image->pixel(0, y), shown.constScanLine(y),
                                 static_cast<size_t>(shown.width()) * 3));
    EXPECT_TRUE(doc.project().shots.front().params.conditioning.first_frame.empty());
    expect_invariants();

    // The first keyframe from the timeline's picture; each is one undo step.
    w.previewSequence();
    w.preview()->seek(2);
    ASSERT_TRUE(w.useShownFrameAsKeyframe(false)) << w.lastError().toStdString();
    EXPECT_FALSE(doc.project().shots.front().params.conditioning.first_frame.empty());
    action("actionUndo")->trigger();
    EXPECT_TRUE(doc.project().shots.front().params.conditioning.first_frame.empty());
    action("actionUndo")->trigger();
    EXPECT_EQ(doc.project().shots.front().params, shot.params);

    // Nothing shown: refused with a reason, nothing changes.
    w.preview()->clear();
    EXPECT_FALSE(w.useShownFrameAsKeyframe(false));
    EXPECT_NE(w.lastError().indexOf("preview shows nothing"), -1) << w.lastError().toStdString();
    EXPECT_EQ(doc.project().shots.front().params, shot.params);
}

TEST_F(StudioFlowTest, InspectorAspectSeedReferencesAndKeyframes) {
    MainWindow& w = open_window(write_project());
    fl::studio::ProjectDocument& doc = *w.document();
    const std::string shot_id = doc.project().shots.front().id;

    // Presets map to sizes of that aspect the model accepts, at about the model's own pixel count.
    using fl::studio::ShotInspector;
    EXPECT_EQ(ShotInspector::aspectSize("16:9", {64, 64}), QSize(80, 48));
    EXPECT_EQ(ShotInspector::aspectSize("9:16", {64, 64}), QSize(48, 80));
    EXPECT_EQ(ShotInspector::aspectSize("1:1", {64, 64}), QSize(64, 64));
    EXPECT_EQ(ShotInspector::aspectSize("2.39:1", {64, 64}), QSize(112, 48));
    for (const QString& preset : ShotInspector::aspectPresets()) {
        const QSize s = ShotInspector::aspectSize(preset, {832, 480});
        EXPECT_EQ(s.width() % 16, 0);
        EXPECT_EQ(s.height() % 16, 0);
    }
    auto* aspect = child<QComboBox>("aspect");
    ASSERT_NE(aspect, nullptr);
    EXPECT_EQ(aspect->currentText().toStdString(), "1:1");
    const int wide = aspect->findText("16:9");
    aspect->setCurrentIndex(wide);
    emit aspect->activated(wide);
    EXPECT_EQ(doc.project().shots.front().params.width, 80);
    EXPECT_EQ(doc.project().shots.front().params.height, 48);
    EXPECT_TRUE(doc.project().shots.front().params.validate().ok());
    action("actionUndo")->trigger();
    EXPECT_EQ(doc.project().shots.front().params.width, 64);
    EXPECT_EQ(aspect->currentText().toStdString(), "1:1");

    // Reference images: from a file and dropped in; stored relative to the project.
    fl::core::Frame red(64, 64);
    for (int y = 0; y < 64; ++y)
        for (int x = 0; x < 64; ++x) red.pixel(x, y)[0] = 200;
    ASSERT_TRUE(fl::media::write_png(red, dir_ / "hero.png").ok());
    ASSERT_TRUE(fl::media::write_png(red, dir_ / "hero2.png").ok());
    ShotInspector* inspector = w.inspector();
    ASSERT_TRUE(inspector->addReferenceFiles({QString::fromStdString((dir_ / "hero.png").string())}));
    EXPECT_EQ(doc.project().shots.front().params.conditioning.references,
              std::vector<std::string>{"hero.png"});
    auto* refs = child<QListWidget>("references");
    EXPECT_EQ(refs->count(), 1);
    // Dropped onto the form (not a keyframe field): a reference.
    ASSERT_TRUE(inspector->dropFiles({QString::fromStdString((dir_ / "hero2.png").string())}, QPoint(2, 2)));
    EXPECT_EQ(doc.project().shots.front().params.conditioning.references,
              (std::vector<std::string>{"hero.png", "hero2.png"}));
    EXPECT_EQ(refs->count(), 2);
    EXPECT_FALSE(inspector->addReferenceFiles({QString::fromStdString((dir_ / "missing.png").string())}));
    action("actionUndo")->trigger();
    EXPECT_EQ(doc.project().shots.front().params.conditioning.references.size(), 1u);

    // Keyframes from files.
    // Dropped onto the first-frame field: the first keyframe.
    auto* first_field = child<QLineEdit>("firstFrame");
    ASSERT_TRUE(inspector->dropFiles({QString::fromStdString((dir_ / "hero.png").string())},
                                     first_field->mapTo(inspector, first_field->rect().center())));
    ASSERT_TRUE(inspector->setLastFrameFile(QString::fromStdString((dir_ / "hero2.png").string())));
    EXPECT_EQ(doc.project().shots.front().params.conditioning.first_frame, "hero.png");
    EXPECT_EQ(doc.project().shots.front().params.conditioning.last_frame, "hero2.png");
    EXPECT_EQ(child<QLineEdit>("firstFrame")->text().toStdString(), "hero.png");
    ASSERT_TRUE(inspector->setLastFrameFile({}));
    EXPECT_TRUE(doc.project().shots.front().params.conditioning.last_frame.empty());
    expect_invariants();

    // A video and its mask (VACE in-painting): dropped onto their fields, one undo step each; a missing
    // file is refused and changes nothing. Cleared again, since the default model cannot take them.
    const std::string clip = (dir_ / "plate.mp4").string();
    std::ofstream(clip) << "any file";  // the inspector names files; the generator reads them
    auto* video_field = child<QLineEdit>("sourceVideo");
    auto* mask_field = child<QLineEdit>("mask");
    EXPECT_TRUE(video_field->isEnabled());
    ASSERT_TRUE(inspector->dropFiles({QString::fromStdString(clip)},
                                     video_field->mapTo(inspector, video_field->rect().center())));
    ASSERT_TRUE(inspector->dropFiles({QString::fromStdString((dir_ / "hero.png").string())},
                                     mask_field->mapTo(inspector, mask_field->rect().center())));
    EXPECT_EQ(doc.project().shots.front().params.conditioning.video, "plate.mp4");
    EXPECT_EQ(doc.project().shots.front().params.conditioning.mask, "hero.png");
    EXPECT_EQ(mask_field->text().toStdString(), "hero.png");
    EXPECT_FALSE(inspector->setConditioningFile(ShotInspector::FileField::Video,
                                                QString::fromStdString((dir_ / "missing.mp4").string())));
    EXPECT_EQ(doc.project().shots.front().params.conditioning.video, "plate.mp4");
    action("actionUndo")->trigger();
    EXPECT_TRUE(doc.project().shots.front().params.conditioning.mask.empty());
    EXPECT_TRUE(mask_field->text().isEmpty());
    ASSERT_TRUE(inspector->setConditioningFile(ShotInspector::FileField::Video, {}));
    EXPECT_TRUE(doc.project().shots.front().params.conditioning.video.empty());
    expect_invariants();

    // A take of a shot with references is scored for identity too; an unlocked seed draws a new one.
    inspector->setSeedLocked(false);
    EXPECT_FALSE(child<QCheckBox>("seedLock")->isChecked());
    QSignalSpy finished(&w, &MainWindow::generationFinished);
    action("actionGenerate")->trigger();
    ASSERT_EQ(wait_generations(finished, 1), 1)
        << w.jobsPanel()->errorText(finished.at(0).at(0).toULongLong()).toStdString();
    const fl::core::Take take = doc.project().shots.front().takes.front();
    EXPECT_NE(take.params.seed, 7u);
    EXPECT_EQ(doc.project().shots.front().params.seed, 7u);
    ASSERT_EQ(w.takeScores().count(take.id), 1u);
    ASSERT_TRUE(w.takeScores().at(take.id).identity.has_value());
    EXPECT_GE(*w.takeScores().at(take.id).identity, 0.0);
    EXPECT_LE(*w.takeScores().at(take.id).identity, 1.0);
}

TEST_F(StudioFlowTest, SaveAsCarriesKeyframesExportedIntoTheMediaFolder) {
    // An unsaved project keeps its media (takes and exported keyframes alike) in a temporary folder; the
    // first save must copy the keyframe too, or the shot would point at a file deleted at exit.
    window_ = std::make_unique<MainWindow>();
    window_->setInteractive(false);
    fl::studio::ProjectDocument& doc = *window_->document();
    const fs::path temp_png = doc.unsaved_media_dir() / "key.png";
    fs::create_directories(temp_png.parent_path());
    fl::core::Frame frame(64, 64);
    ASSERT_TRUE(fl::media::write_png(frame, temp_png).ok());
    const fs::path outside = dir_ / "outside.png";
    ASSERT_TRUE(fl::media::write_png(frame, outside).ok());
    const std::string shot_id = doc.project().shots.front().id;
    fl::core::GenerationParams params = doc.project().shots.front().params;
    params.conditioning.first_frame = doc.media_reference(temp_png);
    params.conditioning.references = {doc.media_reference(outside)};
    ASSERT_TRUE(doc.push(fl::core::make_set_shot_params(shot_id, params)).ok());

    fs::create_directories(dir_ / "A");
    ASSERT_TRUE(window_->saveProjectAs(QString::fromStdString((dir_ / "A" / "film.flproj").string())))
        << window_->lastError().toStdString();
    auto saved = fl::core::load_project(dir_ / "A" / "film.flproj");
    ASSERT_TRUE(saved.ok()) << saved.message();
    const auto& c = saved->shots.front().params.conditioning;
    EXPECT_EQ(c.first_frame, "film.media/key.png");  // copied beside the project, stored relative
    EXPECT_TRUE(fs::exists(dir_ / "A" / "film.media" / "key.png"));
    EXPECT_EQ(c.references, std::vector<std::string>{outside.string()});  // outside the folder: absolute
    // A Save As elsewhere re-expresses the paths against the new folder and carries the copy along.
    fs::create_directories(dir_ / "B" / "deep");
    ASSERT_TRUE(window_->saveProjectAs(QString::fromStdString((dir_ / "B" / "deep" / "cut.flproj").string())))
        << window_->lastError().toStdString();
    auto moved = fl::core::load_project(dir_ / "B" / "deep" / "cut.flproj");
    ASSERT_TRUE(moved.ok()) << moved.message();
    EXPECT_EQ(moved->shots.front().params.conditioning.first_frame, "cut.media/key.png");
    EXPECT_TRUE(fs::exists(dir_ / "B" / "deep" / "cut.media" / "key.png"));
    EXPECT_EQ(fl::core::resolve_media_reference(moved->shots.front().params.conditioning.references.front(),
                                                dir_ / "B" / "deep"),
              outside);
}

TEST_F(StudioFlowTest, AutosaveIsWrittenAndRestored) {
    const fs::path project = write_project();
    const fs::path side = dir_ / "film.flproj.autosave";
    std::string take_id;
    {
        MainWindow& w = open_window(project);
        EXPECT_FALSE(w.autosaveNow());  // nothing unsaved: nothing written
        EXPECT_FALSE(fs::exists(side));
        QSignalSpy autosaved(&w, &MainWindow::autosaved);
        QSignalSpy finished(&w, &MainWindow::generationFinished);
        action("actionGenerate")->trigger();
        ASSERT_EQ(wait_generations(finished, 1), 1);
        // Written when the generation finished, atomically, beside the project.
        ASSERT_GE(autosaved.count(), 1);
        EXPECT_EQ(autosaved.at(0).at(0).toString().toStdString(), side.string());
        auto saved = fl::core::load_project(side);
        ASSERT_TRUE(saved.ok()) << saved.message();
        ASSERT_EQ(saved->shots.front().takes.size(), 1u);
        take_id = saved->shots.front().takes.front().id;
        EXPECT_TRUE(fl::core::load_project(project)->shots.front().takes.empty());  // the file is untouched

        // And periodically: a later edit reaches the autosave on the timer.
        w.setAutosaveInterval(50);
        action("actionNewShot")->trigger();
        ASSERT_TRUE(wait_until([&] { return autosaved.count() >= 2; }, 5000));
        EXPECT_EQ(fl::core::load_project(side)->shots.size(), 2u);
        w.setAutosaveInterval(0);
        // The window goes away without saving (as in a crash): the autosave stays.
        window_.reset();
    }
    ASSERT_TRUE(fs::exists(side));

    // Declining the offer opens the file as saved and keeps the autosave.
    int asked = 0;
    {
        MainWindow& w = open_window(project, [&](const QString& path) {
            ++asked;
            EXPECT_EQ(path.toStdString(), project.string());
            return false;
        });
        EXPECT_EQ(asked, 1);
        EXPECT_TRUE(w.document()->project().shots.front().takes.empty());
        EXPECT_FALSE(w.document()->is_modified());
        window_.reset();
    }
    ASSERT_TRUE(fs::exists(side));

    // Accepting restores the work, as an undoable, unsaved change.
    MainWindow& w = open_window(project, [&](const QString&) {
        ++asked;
        return true;
    });
    EXPECT_EQ(asked, 2);
    fl::studio::ProjectDocument& doc = *w.document();
    ASSERT_EQ(doc.project().shots.size(), 2u);
    ASSERT_EQ(doc.project().shots.front().takes.size(), 1u);
    EXPECT_EQ(doc.project().shots.front().takes.front().id, take_id);
    EXPECT_TRUE(fs::exists(doc.resolve_media(doc.project().shots.front().takes.front().file)));
    EXPECT_EQ(doc.project().sequence.tracks.front().clips.size(), 1u);
    EXPECT_TRUE(doc.is_modified());
    expect_invariants();
    action("actionUndo")->trigger();
    EXPECT_TRUE(doc.project().shots.front().takes.empty());
    action("actionRedo")->trigger();
    EXPECT_EQ(doc.project().shots.front().takes.size(), 1u);

    // A normal save removes the side file; reopening asks nothing.
    ASSERT_TRUE(w.saveProject()) << w.lastError().toStdString();
    EXPECT_FALSE(fs::exists(side));
    EXPECT_EQ(fl::core::load_project(project)->shots.front().takes.size(), 1u);
    ASSERT_TRUE(w.openProject(QString::fromStdString(project.string())));
    EXPECT_EQ(asked, 2);

    // Discarding changes deliberately removes the autosave too.
    action("actionNewShot")->trigger();
    ASSERT_TRUE(w.autosaveNow());
    ASSERT_TRUE(fs::exists(side));
    w.setUnsavedAnswer(QMessageBox::Discard);
    action("actionNew")->trigger();
    EXPECT_FALSE(fs::exists(side));
}

}  // namespace
