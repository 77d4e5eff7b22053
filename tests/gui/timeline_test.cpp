// The studio's timeline and export under QT_QPA_PLATFORM=offscreen: edits through the view's slots, mouse
// and keys (each one undo step, drags merged), the sequence preview, and File ▸ Export with cancel.
#include <gtest/gtest.h>
#include <unistd.h>

#include <QAction>
#include <QApplication>
#include <QDialogButtonBox>
#include <QInputDialog>
#include <QKeyEvent>
#include <QMenu>
#include <QMenuBar>
#include <QMouseEvent>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTest>
#include <QTimer>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <functional>

#include "frameloom/core/audio.h"
#include "frameloom/core/edit.h"
#include "frameloom/core/frame.h"
#include "frameloom/core/project.h"
#include "frameloom/core/project_file.h"
#include "frameloom/media/audio.h"
#include "frameloom/media/encode.h"
#include "frameloom/media/probe.h"
#include "support/studio_fixture.h"
#include "ui/export_dialog.h"
#include "ui/main_window.h"
#include "ui/preview_player.h"
#include "ui/project_document.h"
#include "ui/timeline_view.h"

namespace fs = std::filesystem;
using fl::studio::MainWindow;
using fl::studio::TimelineView;
using fl::test::send_mouse;
using fl::test::wait_until;

namespace {

void send_key(QWidget* widget, int key, Qt::KeyboardModifiers modifiers = Qt::NoModifier) {
    QKeyEvent event(QEvent::KeyPress, key, modifiers);
    QApplication::sendEvent(widget, &event);
}

/// A 16-frame 64x64 clip of one colour at 8 fps.
void write_colour_clip(const fs::path& path, uint8_t r, uint8_t g, uint8_t b) {
    fl::core::Video video;
    video.fps = fl::core::FrameRate{8, 1};
    for (int i = 0; i < 16; ++i) {
        fl::core::Frame frame(64, 64);
        for (size_t p = 0; p < frame.rgb.size(); p += 3) {
            frame.rgb[p] = r;
            frame.rgb[p + 1] = g;
            frame.rgb[p + 2] = b;
        }
        video.frames.push_back(std::move(frame));
    }
    auto written = fl::media::encode_mp4(video, path);
    ASSERT_TRUE(written.ok()) << written.message();
}

/// Answers the next modal dialog: `fill` sets its values, then it is accepted.
void answer_next_dialog(const std::function<void(QDialog*)>& fill) {
    QTimer::singleShot(0, [fill] {
        QDialog* dialog = nullptr;
        wait_until(
            [&] { return (dialog = qobject_cast<QDialog*>(QApplication::activeModalWidget())) != nullptr; },
            5000);
        ASSERT_NE(dialog, nullptr) << "no dialog opened";
        fill(dialog);
        dialog->accept();
    });
}

class TimelineTest : public fl::test::StudioFixture {
protected:
    TimelineTest() : StudioFixture("fl-timeline") {}

    void SetUp() override {
        StudioFixture::SetUp();
        write_colour_clip(dir_ / "red.mp4", 200, 30, 30);
        write_colour_clip(dir_ / "blue.mp4", 30, 30, 200);
    }

    /// A saved project: V1 = [red 0..16)[blue 16..32), and a window on it.
    MainWindow& open_two_clips() {
        fl::core::Project project = fl::core::Project::make_new("Cut");
        project.sequence.fps = fl::core::FrameRate{8, 1};
        project.sequence.width = 64;
        project.sequence.height = 64;
        fl::core::Track& v1 = project.sequence.tracks.front();
        for (const char* name : {"red", "blue"}) {
            fl::core::Clip clip;
            clip.id = project.fresh_id("clip");
            clip.name = name;
            clip.source.file = std::string(name) + ".mp4";
            clip.in = 0;
            clip.out = 16;
            clip.position = v1.end();
            v1.clips.push_back(clip);
        }
        const fs::path path = fl::test::save_project_expect_ok(project, dir_ / "cut.flproj");
        window_ = std::make_unique<MainWindow>();
        window_->setInteractive(false);
        window_->setAutosaveInterval(0);
        window_->show();
        EXPECT_TRUE(window_->openProject(QString::fromStdString(path.string())))
            << window_->lastError().toStdString();
        return *window_;
    }

    const fl::core::Project& project() const { return window_->document()->project(); }
    const fl::core::Track& v1() const { return project().sequence.tracks.front(); }
    TimelineView* timeline() const { return window_->timeline(); }
    QString track_id() const { return QString::fromStdString(v1().id); }
    QString clip_id(size_t i) const { return QString::fromStdString(v1().clips.at(i).id); }

    void expect_invariants() {
        auto ok = project().check_invariants();
        EXPECT_TRUE(ok.ok()) << ok.message();
    }
    /// Undo then redo of the last edit: back to `before`, then forward to `after`, invariants at each step.
    void expect_undo_redo(const fl::core::Project& before, const fl::core::Project& after) {
        window_->document()->undo();
        EXPECT_EQ(project(), before);
        expect_invariants();
        ASSERT_TRUE(window_->document()->redo().ok());
        EXPECT_EQ(project(), after);
        expect_invariants();
    }
};

TEST_F(TimelineTest, TracksTimecodeZoomAndSnapping) {
    open_two_clips();
    TimelineView* view = timeline();
    const fl::core::Project before = project();
    ASSERT_TRUE(view->addVideoTrack());
    ASSERT_TRUE(view->addAudioTrack());
    ASSERT_TRUE(view->addAudioTrack());
    ASSERT_EQ(project().sequence.tracks.size(), 4u);
    EXPECT_EQ(project().sequence.tracks[1].kind, fl::core::TrackKind::Video);
    EXPECT_EQ(project().sequence.tracks[1].name, "V2");
    EXPECT_EQ(project().sequence.tracks[3].kind, fl::core::TrackKind::Audio);
    EXPECT_EQ(project().sequence.tracks[3].name, "A2");
    expect_invariants();
    window_->document()->undo();
    window_->document()->undo();
    window_->document()->undo();
    EXPECT_EQ(project(), before);

    // Timecode at the sequence rate (8 fps): 17 frames = 2 s + 1 frame.
    EXPECT_EQ(view->timecode(17).toStdString(), "00:00:02:01");
    EXPECT_EQ(view->timecode(8 * 3600).toStdString(), "01:00:00:00");

    // Zoom (the buttons, Ctrl+wheel and +/- share these slots) changes the frame ↔ pixel scale.
    const double ppf = view->pixelsPerFrame();
    view->zoomIn();
    EXPECT_GT(view->pixelsPerFrame(), ppf);
    const int x16 = view->xForFrame(16);
    EXPECT_EQ(view->frameAt(x16), 16);
    view->zoomOut();
    EXPECT_DOUBLE_EQ(view->pixelsPerFrame(), ppf);
    QWheelEvent wheel(QPointF(100, 50), QPointF(100, 50), QPoint(), QPoint(0, 120), Qt::NoButton,
                      Qt::ControlModifier, Qt::NoScrollPhase, false);
    QApplication::sendEvent(view, &wheel);
    EXPECT_GT(view->pixelsPerFrame(), ppf);
    view->setPixelsPerFrame(8.0);

    // Snapping: within 8 px (1 frame at 8 px/frame) of an edge or the playhead.
    view->setPlayhead(40);
    EXPECT_EQ(view->snapFrame(17), 16);  // the cut between red and blue
    EXPECT_EQ(view->snapFrame(41), 40);  // the playhead
    EXPECT_EQ(view->snapFrame(24), 24);  // nothing near
    EXPECT_EQ(view->snapFrame(33), 32);  // blue's end...
    EXPECT_EQ(view->snapFrame(33, v1().clips[1].id), 33) << "...not when blue is the clip being dragged";
    view->setSnapping(false);
    EXPECT_EQ(view->snapFrame(17), 17);
}

TEST_F(TimelineTest, EditsThroughSlotsAreOneUndoStepEach) {
    open_two_clips();
    TimelineView* view = timeline();
    const QString red = clip_id(0), blue = clip_id(1);

    // Split at the playhead: the selected clip when the playhead is inside it.
    fl::core::Project before = project();
    view->selectClip(track_id(), red);
    view->setPlayhead(6);
    ASSERT_TRUE(view->splitAtPlayhead());
    ASSERT_EQ(v1().clips.size(), 3u);
    EXPECT_EQ(v1().clips[0].end(), 6);
    EXPECT_EQ(v1().clips[1].position, 6);
    EXPECT_EQ(v1().clips[1].in, 6);
    expect_undo_redo(before, project());

    // Ripple delete of the middle part closes the gap.
    before = project();
    view->selectClip(track_id(), clip_id(1));
    ASSERT_TRUE(view->rippleDeleteSelected());
    ASSERT_EQ(v1().clips.size(), 2u);
    EXPECT_EQ(v1().clips[1].id, blue.toStdString());
    EXPECT_EQ(v1().clips[1].position, 6);
    expect_undo_redo(before, project());

    // Speed 2 halves the clip; "1/2" doubles it.
    before = project();
    view->selectClip(track_id(), blue);
    ASSERT_TRUE(view->setSpeed("2"));
    EXPECT_EQ(v1().clips[1].duration(), 8);
    EXPECT_EQ(v1().clips[1].speed, (fl::core::Rational{2, 1}));
    expect_undo_redo(before, project());
    EXPECT_FALSE(view->setSpeed("fast")) << "a speed that does not parse is refused";

    // Fades.
    before = project();
    ASSERT_TRUE(view->setFades(2, 3));
    EXPECT_EQ(v1().clips[1].fade_in, 2);
    EXPECT_EQ(v1().clips[1].fade_out, 3);
    expect_undo_redo(before, project());

    // Crossfade of 3 frames from the previous clip: blue moves left to overlap by 3.
    before = project();
    ASSERT_TRUE(view->setCrossfade(3));
    EXPECT_EQ(v1().clips[1].transition_in, 3);
    EXPECT_EQ(v1().overlap_before(1), 3);
    EXPECT_EQ(v1().clips[1].position, 3);
    expect_undo_redo(before, project());
    ASSERT_TRUE(view->setCrossfade(0));
    EXPECT_EQ(v1().overlap_before(1), 0);
    window_->document()->undo();

    // Gain is for audio clips: refused on video, and the refusal changes nothing.
    QSignalSpy failed(view, &TimelineView::editFailed);
    before = project();
    EXPECT_FALSE(view->setGain(-6.0));
    EXPECT_EQ(failed.count(), 1);
    EXPECT_EQ(project(), before);

    // Move through the slot: to frame 40.
    ASSERT_TRUE(view->moveClip(track_id(), blue, track_id(), 40));
    EXPECT_EQ(v1().clips[1].position, 40);
    expect_invariants();
}

TEST_F(TimelineTest, TimelineMenuAsksForValuesAndEachDialogIsOneStep) {
    MainWindow& w = open_two_clips();
    TimelineView* view = timeline();
    auto trigger = [&](const char* name) {
        auto* action = w.findChild<QAction*>(QString::fromLatin1(name));
        ASSERT_NE(action, nullptr) << name;
        action->trigger();
    };
    const fl::core::Project before = project();
    view->selectClip(track_id(), clip_id(1));

    answer_next_dialog([](QDialog* d) { static_cast<QInputDialog*>(d)->setIntValue(2); });
    trigger("actionCrossfade");
    EXPECT_EQ(v1().overlap_before(1), 2);

    answer_next_dialog([](QDialog* d) { static_cast<QInputDialog*>(d)->setTextValue("1/2"); });
    trigger("actionSpeed");
    EXPECT_EQ(v1().clips[1].speed, (fl::core::Rational{1, 2}));
    EXPECT_EQ(v1().clips[1].duration(), 32);

    for (int fade_out : {5, 7}) {  // two dialogs on one clip: two undo steps
        answer_next_dialog([fade_out](QDialog* d) {
            const auto boxes = d->findChildren<QSpinBox*>();
            ASSERT_EQ(boxes.size(), 2);
            boxes[0]->setValue(3);
            boxes[1]->setValue(fade_out);
        });
        trigger("actionFades");
        EXPECT_EQ(v1().clips[1].fade_in, 3);
        EXPECT_EQ(v1().clips[1].fade_out, fade_out);
    }
    window_->document()->undo();
    EXPECT_EQ(v1().clips[1].fade_out, 5);
    for (int i = 0; i < 3; ++i) window_->document()->undo();
    EXPECT_EQ(project(), before);

    trigger("actionAddVideoTrack");
    trigger("actionAddAudioTrack");
    EXPECT_EQ(project().sequence.tracks.size(), 3u);
    expect_invariants();
}

TEST_F(TimelineTest, MusicFromAFileGetsItsLengthAndGain) {
    open_two_clips();
    TimelineView* view = timeline();
    // 2.5 s of a 440 Hz tone: 20 frames at 8 fps.
    fl::core::Audio tone;
    tone.sample_rate = 48000;
    tone.channels = 2;
    for (int i = 0; i < 120000; ++i) {
        const float v = 0.25f * static_cast<float>(std::sin(2.0 * M_PI * 440.0 * i / 48000.0));
        tone.samples.push_back(v);
        tone.samples.push_back(v);
    }
    ASSERT_TRUE(fl::media::write_wav(tone, dir_ / "music.wav").ok());

    const fl::core::Project before = project();
    view->setPlayhead(4);
    ASSERT_TRUE(view->addMusic(QString::fromStdString((dir_ / "music.wav").string())));
    ASSERT_EQ(project().sequence.tracks.size(), 2u) << "an audio track is made for the music";
    const fl::core::Track& a1 = project().sequence.tracks[1];
    EXPECT_EQ(a1.kind, fl::core::TrackKind::Audio);
    ASSERT_EQ(a1.clips.size(), 1u);
    EXPECT_EQ(a1.clips[0].position, 4);
    EXPECT_EQ(a1.clips[0].duration(), 20);
    EXPECT_EQ(a1.clips[0].source.file, "music.wav") << "stored relative to the project";
    EXPECT_EQ(view->selectedClip(), a1.clips[0].id);
    expect_invariants();
    const fl::core::Project with_music = project();
    // Track and clip are one undo step.
    expect_undo_redo(before, with_music);

    // Undo dropped the selection with the clip; select it again as a click would.
    view->selectClip(QString::fromStdString(project().sequence.tracks[1].id),
                     QString::fromStdString(project().sequence.tracks[1].clips[0].id));
    ASSERT_TRUE(view->setGain(-6.0));
    EXPECT_DOUBLE_EQ(project().sequence.tracks[1].clips[0].gain_db, -6.0);
    ASSERT_TRUE(view->setGain(-9.0));
    window_->document()->undo();  // consecutive gain edits of one clip are one step (a slider)
    EXPECT_EQ(project(), with_music);

    // A second file goes on the same track, after the first (the playhead is inside it).
    ASSERT_TRUE(view->addMusic(QString::fromStdString((dir_ / "music.wav").string())));
    ASSERT_EQ(project().sequence.tracks.size(), 2u);
    ASSERT_EQ(project().sequence.tracks[1].clips.size(), 2u);
    EXPECT_EQ(project().sequence.tracks[1].clips[1].position, 24);

    QSignalSpy failed(view, &TimelineView::editFailed);
    EXPECT_FALSE(view->addMusic(QString::fromStdString((dir_ / "missing.wav").string())));
    EXPECT_EQ(failed.count(), 1);
}

TEST_F(TimelineTest, MouseDragsMoveAndTrimAsOneUndoStepAndKeysEdit) {
    open_two_clips();
    TimelineView* view = timeline();
    view->setPixelsPerFrame(8.0);
    view->setSnapping(false);
    const fl::core::Project before = project();

    // Drag blue's body from frame 20 to frame 30 in three moves: one undo step.
    const QRect blue = view->clipRect(v1().id, v1().clips[1].id);
    const int y = blue.center().y();
    send_mouse(view, QEvent::MouseButtonPress, QPoint(view->xForFrame(20) + 4, y), Qt::LeftButton);
    for (int64_t f : {23, 27, 30})
        send_mouse(view, QEvent::MouseMove, QPoint(view->xForFrame(f) + 4, y), Qt::LeftButton);
    send_mouse(view, QEvent::MouseButtonRelease, QPoint(view->xForFrame(30) + 4, y), Qt::NoButton);
    EXPECT_EQ(v1().clips[1].position, 26);
    expect_invariants();
    window_->document()->undo();
    EXPECT_EQ(project(), before);

    // Two drags of blue in a row are two undo steps.
    for (int64_t to : {24, 28}) {
        const int64_t from = v1().clips[1].position + 2;
        send_mouse(view, QEvent::MouseButtonPress, QPoint(view->xForFrame(from) + 4, y), Qt::LeftButton);
        send_mouse(view, QEvent::MouseMove, QPoint(view->xForFrame(to + 2) + 4, y), Qt::LeftButton);
        send_mouse(view, QEvent::MouseButtonRelease, QPoint(view->xForFrame(to + 2) + 4, y), Qt::NoButton);
        EXPECT_EQ(v1().clips[1].position, to);
    }
    window_->document()->undo();
    EXPECT_EQ(v1().clips[1].position, 24);
    window_->document()->undo();
    EXPECT_EQ(project(), before);

    // Drag red's right edge from 16 to 10 (trim out): one undo step.
    const QRect red = view->clipRect(v1().id, v1().clips[0].id);
    send_mouse(view, QEvent::MouseButtonPress, QPoint(red.right() - 2, y), Qt::LeftButton);
    for (int64_t f : {14, 12, 10})
        send_mouse(view, QEvent::MouseMove, QPoint(view->xForFrame(f) - 4, y), Qt::LeftButton);
    send_mouse(view, QEvent::MouseButtonRelease, QPoint(view->xForFrame(10) - 4, y), Qt::NoButton);
    EXPECT_EQ(v1().clips[0].out, 10);
    EXPECT_EQ(v1().clips[0].end(), 10);
    expect_invariants();
    window_->document()->undo();
    EXPECT_EQ(project(), before);

    // Drag blue's left edge from 16 to 20 (trim in): its end stays, in moves to 4.
    const QRect blue2 = view->clipRect(v1().id, v1().clips[1].id);
    send_mouse(view, QEvent::MouseButtonPress, QPoint(blue2.left() + 2, y), Qt::LeftButton);
    for (int64_t f : {18, 20})
        send_mouse(view, QEvent::MouseMove, QPoint(view->xForFrame(f) + 2, y), Qt::LeftButton);
    send_mouse(view, QEvent::MouseButtonRelease, QPoint(view->xForFrame(20) + 2, y), Qt::NoButton);
    EXPECT_EQ(v1().clips[1].in, 4);
    EXPECT_EQ(v1().clips[1].position, 20);
    EXPECT_EQ(v1().clips[1].end(), 32);
    window_->document()->undo();
    EXPECT_EQ(project(), before);

    // Snapping on: blue dragged to end one frame from the playhead lands on it.
    view->setSnapping(true);
    view->setPlayhead(40);
    send_mouse(view, QEvent::MouseButtonPress, QPoint(view->xForFrame(20) + 4, y), Qt::LeftButton);
    send_mouse(view, QEvent::MouseMove, QPoint(view->xForFrame(43) + 4, y), Qt::LeftButton);
    send_mouse(view, QEvent::MouseButtonRelease, QPoint(view->xForFrame(43) + 4, y), Qt::NoButton);
    EXPECT_EQ(v1().clips[1].position, 40) << "start snapped to the playhead";
    window_->document()->undo();

    // Click in the ruler moves the playhead; S splits there; Shift+Delete ripple-deletes the selection.
    QSignalSpy moved(view, &TimelineView::playheadMoved);
    send_mouse(view, QEvent::MouseButtonPress, QPoint(view->xForFrame(8) + 2, 5), Qt::LeftButton);
    send_mouse(view, QEvent::MouseButtonRelease, QPoint(view->xForFrame(8) + 2, 5), Qt::NoButton);
    EXPECT_EQ(view->playhead(), 8);
    EXPECT_GE(moved.count(), 1);
    send_key(view, Qt::Key_S);
    ASSERT_EQ(v1().clips.size(), 3u);
    view->selectClip(track_id(), clip_id(0));
    send_key(view, Qt::Key_Delete, Qt::ShiftModifier);
    ASSERT_EQ(v1().clips.size(), 2u);
    EXPECT_EQ(v1().clips[0].position, 0);
    EXPECT_EQ(v1().clips[0].in, 8);
    EXPECT_EQ(v1().clips[1].position, 8);
    expect_invariants();
    window_->document()->undo();
    window_->document()->undo();
    EXPECT_EQ(project(), before);
}

TEST_F(TimelineTest, PreviewHonoursFadesCrossfadesAndTransportKeys) {
    MainWindow& w = open_two_clips();
    TimelineView* view = timeline();
    view->selectClip(track_id(), clip_id(0));
    ASSERT_TRUE(view->setFades(4, 0));
    view->selectClip(track_id(), clip_id(1));
    ASSERT_TRUE(view->setCrossfade(3));  // blue now starts at 13, dissolving over 13..15
    w.previewSequence();
    fl::studio::PreviewPlayer* preview = w.preview();
    ASSERT_TRUE(preview->isSequence());
    EXPECT_EQ(preview->frameCount(), 29);

    auto colour = [&](qint64 f) {
        preview->seek(f);
        return preview->image().pixelColor(32, 32);
    };
    EXPECT_LT(colour(0).red(), 10) << "frame 0 of a fade-in is black";
    EXPECT_NEAR(colour(2).red(), 100, 15) << "half way up the fade";
    EXPECT_NEAR(colour(8).red(), 200, 15);
    const QColor mid = colour(14);  // dissolve frame 1 of 3: 2/4 blue
    EXPECT_NEAR(mid.red(), 115, 20);
    EXPECT_NEAR(mid.blue(), 115, 20);
    EXPECT_NEAR(colour(20).blue(), 200, 15);

    // Transport: Right/Left step, L plays forward (twice: faster), J backwards, K stops.
    preview->seek(10);
    preview->stepForward();
    EXPECT_EQ(preview->frame(), 11);
    preview->stepBack();
    preview->stepBack();
    EXPECT_EQ(preview->frame(), 9);
    preview->playForward();
    EXPECT_TRUE(preview->isPlaying());
    EXPECT_EQ(preview->playRate(), 1);
    preview->playForward();
    EXPECT_EQ(preview->playRate(), 2);
    preview->playReverse();
    EXPECT_EQ(preview->playRate(), -1);
    const qint64 at = preview->frame();
    ASSERT_TRUE(wait_until([&] { return preview->frame() < at; }, 3000)) << "plays backwards";
    preview->stop();
    EXPECT_FALSE(preview->isPlaying());
    // Space on the timeline toggles play of the sequence.
    w.activateWindow();
    ASSERT_TRUE(QTest::qWaitForWindowActive(&w));
    view->setFocus();
    QTest::keyClick(view, Qt::Key_Space);
    EXPECT_TRUE(preview->isPlaying());
    QTest::keyClick(view, Qt::Key_Space);
    EXPECT_FALSE(preview->isPlaying());
}

TEST_F(TimelineTest, SequenceWithMusicPlaysWithSoundOrSilentlyWithoutADevice) {
    MainWindow& w = open_two_clips();
    fl::core::Audio tone;
    tone.sample_rate = 48000;
    tone.channels = 2;
    for (int i = 0; i < 4 * 48000; ++i) {
        const float v = 0.25f * static_cast<float>(std::sin(2.0 * M_PI * 440.0 * i / 48000.0));
        tone.samples.push_back(v);
        tone.samples.push_back(v);
    }
    ASSERT_TRUE(fl::media::write_wav(tone, dir_ / "music.wav").ok());
    timeline()->setPlayhead(0);
    ASSERT_TRUE(timeline()->addMusic(QString::fromStdString((dir_ / "music.wav").string())));
    w.previewSequence();
    fl::studio::PreviewPlayer* preview = w.preview();
    ASSERT_TRUE(preview->isSequence());
    preview->seek(0);

    // Forward at 1x: sound plays, or (CI, offscreen, no sound hardware) the reason is noted and the
    // pictures play on regardless; never an error dialog.
    preview->play();
    ASSERT_TRUE(preview->isPlaying());
    EXPECT_TRUE(preview->audioPlaying() || !preview->audioUnavailable().isEmpty())
        << "neither sound nor a reason for silence";
    if (preview->audioPlaying()) {
        EXPECT_GT(preview->audioSamplesMixed(), 0);
    }
    ASSERT_TRUE(wait_until([&] { return preview->frame() >= 4; }, 3000)) << "the pictures play";
    EXPECT_FALSE(preview->image().isNull());
    EXPECT_EQ(QApplication::activeModalWidget(), nullptr);
    EXPECT_TRUE(w.lastError().isEmpty()) << w.lastError().toStdString();

    // 2x, reverse and stepping are silent.
    preview->playForward();
    EXPECT_EQ(preview->playRate(), 2);
    EXPECT_FALSE(preview->audioPlaying());
    preview->playReverse();
    EXPECT_FALSE(preview->audioPlaying());
    preview->stepForward();
    EXPECT_FALSE(preview->isPlaying());
    EXPECT_FALSE(preview->audioPlaying());
    // Playing to the end stops by itself on the last frame.
    preview->seek(preview->frameCount() - 3);
    preview->play();
    ASSERT_TRUE(wait_until([&] { return !preview->isPlaying(); }, 3000));
    EXPECT_EQ(preview->frame(), preview->frameCount() - 1);
    EXPECT_FALSE(preview->audioPlaying());
}

TEST_F(TimelineTest, ExportWritesTheWholeFilmAndCancelLeavesNothing) {
    MainWindow& w = open_two_clips();
    TimelineView* view = timeline();
    view->selectClip(track_id(), clip_id(1));
    ASSERT_TRUE(view->setCrossfade(2));  // 30 frames

    auto* export_action = w.findChild<QAction*>("actionExport");
    ASSERT_NE(export_action, nullptr);
    export_action->trigger();  // File ▸ Export…
    fl::studio::ExportDialog* dialog = w.exportDialog();
    ASSERT_NE(dialog, nullptr);
    EXPECT_TRUE(dialog->isVisible());
    const fs::path mp4 = dir_ / "film.mp4";
    dialog->setTargetPath(QString::fromStdString(mp4.string()));
    EXPECT_EQ(dialog->format(), fl::studio::ExportDialog::Mp4);
    QSignalSpy finished(dialog, &fl::studio::ExportDialog::exportFinished);
    ASSERT_NE(dialog->startExport(), 0u);
    ASSERT_TRUE(wait_until([&] { return finished.count() > 0; }, 60000));
    ASSERT_TRUE(finished.at(0).at(0).toBool()) << finished.at(0).at(1).toString().toStdString();
    auto info = fl::media::probe(mp4);
    ASSERT_TRUE(info.ok()) << info.message();
    EXPECT_EQ(info->frame_count, 30);

    // MOV (ProRes): choosing the format changes the extension.
    dialog->setFormat(fl::studio::ExportDialog::Mov);
    EXPECT_EQ(fs::path(dialog->targetPath().toStdString()).extension(), ".mov");
    finished.clear();
    ASSERT_NE(dialog->startExport(), 0u);
    ASSERT_TRUE(wait_until([&] { return finished.count() > 0; }, 60000));
    ASSERT_TRUE(finished.at(0).at(0).toBool()) << finished.at(0).at(1).toString().toStdString();
    auto mov = fl::media::probe(dir_ / "film.mov");
    ASSERT_TRUE(mov.ok()) << mov.message();
    EXPECT_EQ(mov->frame_count, 30);

    // A long sequence (speed 1/100: 1,600 frames), cancelled once it is running: no file, no temp file.
    view->selectClip(track_id(), clip_id(1));
    ASSERT_TRUE(view->setCrossfade(0));
    ASSERT_TRUE(view->setSpeed("1/100"));
    const fs::path cancelled = dir_ / "cancelled.mp4";
    dialog->setTargetPath(QString::fromStdString(cancelled.string()));
    finished.clear();
    ASSERT_NE(dialog->startExport(), 0u);
    EXPECT_TRUE(dialog->isRunning());
    ASSERT_TRUE(wait_until([&] { return dialog->statusText().contains("frame"); }, 30000))
        << "the render reports progress";
    dialog->cancelExport();
    ASSERT_TRUE(wait_until([&] { return finished.count() > 0; }, 30000));
    EXPECT_FALSE(finished.at(0).at(0).toBool());
    EXPECT_TRUE(finished.at(0).at(1).toString().contains("cancelled"));
    EXPECT_FALSE(fs::exists(cancelled));
    for (const auto& entry : fs::directory_iterator(dir_))
        EXPECT_EQ(entry.path().filename().string().find("cancelled"), std::string::npos)
            << "left behind: " << entry.path();

    // Refused before any work: a wrong extension.
    finished.clear();
    dialog->setTargetPath(QString::fromStdString((dir_ / "film.avi").string()));
    EXPECT_EQ(dialog->startExport(), 0u);
    EXPECT_EQ(finished.count(), 1);
}

}  // namespace

TEST_F(TimelineTest, CheckCutsBadgesEachCutUntilAnEditChangesIt) {
    open_two_clips();
    QSignalSpy checked(window_.get(), &MainWindow::cutsChecked);
    QAction* action = window_->findChild<QAction*>("actionCheckCuts");
    ASSERT_NE(action, nullptr);
    action->trigger();  // Timeline ▸ Check cuts
    ASSERT_TRUE(wait_until([&] { return checked.count() == 1; }, 20000));
    auto cuts = timeline()->currentCutScores();
    ASSERT_EQ(cuts.size(), 1u);
    const fl::studio::CutScore& cut = *cuts.front();
    EXPECT_EQ(cut.metrics.from_clip, clip_id(0).toStdString());
    EXPECT_EQ(cut.metrics.to_clip, clip_id(1).toStdString());
    EXPECT_EQ(cut.metrics.position, 16);
    EXPECT_GT(cut.metrics.seam.delta_e, 20.0);  // red into blue
    EXPECT_EQ(fl::studio::grade_cut(cut.metrics.seam), fl::studio::CutGrade::Jump);
    const QRect badge = timeline()->cutBadgeRect(cut);
    EXPECT_TRUE(badge.contains(timeline()->xForFrame(16), badge.center().y()));
    EXPECT_NE(fl::studio::cut_tooltip(cut).indexOf("brightness jump"), -1);
    fl::consistency::SeamMetrics smooth;
    smooth.delta_e = 1.2;
    smooth.brightness_jump = -0.5;
    EXPECT_EQ(fl::studio::grade_cut(smooth), fl::studio::CutGrade::Ok);

    // A trim changes what meets at the cut: the score is stale and not drawn; undo brings it back.
    ASSERT_TRUE(timeline()->trimOut(track_id(), clip_id(0), 12));
    EXPECT_TRUE(timeline()->currentCutScores().empty());
    window_->document()->undo();
    EXPECT_EQ(timeline()->currentCutScores().size(), 1u);
}
