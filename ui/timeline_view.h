#pragma once
/// The timeline: a time ruler with timecodes, video and audio tracks with clips, and a playhead. Mouse
/// gestures and the slots below turn into core edit commands (one undo step each; a drag is one step).

#include <QWidget>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "frameloom/consistency/continuity.h"
#include "frameloom/core/edit.h"
#include "frameloom/core/project.h"
#include "frameloom/core/time.h"

namespace fl::studio {

class ProjectDocument;

/// A measured cut as the timeline shows it: the seam's metrics and both clips as they were when measured,
/// so an edit of either clip (a trim, a move, a removal) makes the score stale instead of wrong.
struct CutScore {
    consistency::CutMetrics metrics;
    core::Clip from, to;
};

/// How a cut's badge is coloured: ok (ΔE00 < 3 and |ΔL*| < 5: hardly visible), visible (ΔE00 < 8 and
/// |ΔL*| < 12), or a jump.
enum class CutGrade { Ok, Visible, Jump };
CutGrade grade_cut(const consistency::SeamMetrics& seam);
/// The badge text ("ΔE 1.7") and its tooltip (every metric of the seam, one per line).
QString cut_badge_text(const consistency::SeamMetrics& seam);
QString cut_tooltip(const CutScore& cut);

/// Paints the sequence of the document and turns mouse gestures into UndoStack commands.
///   ruler  | 00:00:00:00     00:00:01:00 ...     (click/drag: playhead)
///   V1     | [ clip ===><=== clip ]  2x          (drag body: move; drag an edge: trim; ramps: fades)
///   A1     | [ music  -6.0 dB      ]
class TimelineView : public QWidget {
    Q_OBJECT
public:
    explicit TimelineView(ProjectDocument* document, QWidget* parent = nullptr);

    int64_t playhead() const { return playhead_; }
    const std::string& selectedClip() const { return selected_clip_; }
    const std::string& selectedTrack() const { return selected_track_; }
    double pixelsPerFrame() const { return pixels_per_frame_; }
    bool snapping() const { return snapping_; }

    /// Geometry, shared by painting, hit tests and tests.
    static constexpr int kHeaderWidth = 64;
    static constexpr int kRulerHeight = 26;
    static constexpr int kTrackHeight = 44;
    /// Pixels from a clip's edge that grab the edge (trim) instead of the body (move).
    static constexpr int kEdgeGrab = 6;
    /// Snapping reach in pixels (to clip edges and the playhead).
    static constexpr int kSnapPixels = 8;
    /// x coordinate of a sequence frame, and the frame under an x coordinate.
    int xForFrame(int64_t frame) const;
    int64_t frameAt(int x) const;
    /// y of the top of track row `index`.
    static int yForTrack(int index) { return kRulerHeight + index * kTrackHeight; }
    /// Rectangle of a clip ({} when not found).
    QRect clipRect(const std::string& track_id, const std::string& clip_id) const;
    /// "HH:MM:SS:FF" of a frame at the sequence's rate (what the ruler shows).
    QString timecode(int64_t frame) const;
    /// The frame a dragged edge at `frame` lands on: the nearest clip edge (of any clip but `ignore_clip`)
    /// or the playhead within kSnapPixels, else `frame` itself (also when snapping is off).
    int64_t snapFrame(int64_t frame, const std::string& ignore_clip = {}) const;

    /// Cut scores to draw as badges on the cuts (Timeline ▸ Check cuts); replaces earlier ones.
    void setCutScores(std::vector<CutScore> cuts);
    /// The scores still true of the sequence: both clips unchanged and still consecutive on their track.
    std::vector<const CutScore*> currentCutScores() const;
    /// Rectangle of a current cut's badge ({} when the score is stale or not found).
    QRect cutBadgeRect(const CutScore& cut) const;

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

public slots:
    void setPlayhead(qint64 frame);
    void selectClip(const QString& track_id, const QString& clip_id);
    void setPixelsPerFrame(double ppf);
    void zoomIn();
    void zoomOut();
    void setSnapping(bool on);
    /// Re-reads the document (sizes and selection) and repaints.
    void refresh();

    // ---- Edits. Each is one undoable command; false (and editFailed) when the engine refuses. ----
    bool addVideoTrack();
    bool addAudioTrack();
    /// Moves a clip to `to_track` at `position` (consecutive moves of one clip merge: a drag).
    bool moveClip(const QString& track_id, const QString& clip_id, const QString& to_track, qint64 position);
    /// Trims the head to source frame `new_in` (end stays) / the tail to `new_out` (position stays).
    bool trimIn(const QString& track_id, const QString& clip_id, qint64 new_in);
    bool trimOut(const QString& track_id, const QString& clip_id, qint64 new_out);
    /// S: splits the clip under the playhead (the selected clip when it is under it, else the topmost).
    bool splitAtPlayhead();
    /// Shift+Delete: removes the selected clip and closes the gap on its track.
    bool rippleDeleteSelected();
    /// Delete: removes the selected clip, leaving a gap.
    bool deleteSelected();
    /// Crossfade of `frames` from the previous clip into the selected one (0 clears it).
    bool setCrossfade(qint64 frames);
    /// Speed of the selected clip: "2", "1/2", "0.5".
    bool setSpeed(const QString& speed);
    /// Fade-in and fade-out of the selected clip, in frames.
    bool setFades(qint64 fade_in, qint64 fade_out);
    /// Gain of the selected audio clip in dB.
    bool setGain(double gain_db);
    /// Puts an audio file on an audio track (the selected one, else the first; a new one when there is
    /// none, in the same undo step), at the playhead when that track is free there, else after its last
    /// clip; its length is the file's (media::probe_audio_seconds). The new clip is selected.
    bool addMusic(const QString& path);

    // ---- The same edits asking for their values in a dialog (menus, context menu); each dialog is its own
    // undo step (the slots above merge consecutive fade/gain edits of one clip, as a slider would). ----
    void promptCrossfade();
    void promptSpeed();
    void promptFades();
    void promptGain();
    void promptAddMusic();

signals:
    /// The user clicked in the ruler (or dragged there): the preview should show this frame.
    void playheadMoved(qint64 frame);
    /// Selection changed (empty ids: nothing selected).
    void clipSelected(const QString& track_id, const QString& clip_id);
    /// An edit was refused by the engine.
    void editFailed(const QString& message);

protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;
    void contextMenuEvent(QContextMenuEvent* event) override;
    bool event(QEvent* event) override;  ///< tooltips of cut badges

private:
    int track_at(int y) const;  ///< index of the track row under y, or -1
    int64_t ruler_step() const;
    const core::Clip* selected() const;
    /// Pushes a command; emits editFailed and returns false when it is refused.
    bool apply(std::unique_ptr<core::Command> command);
    bool add_track(core::TrackKind kind);
    void paint_clip(QPainter& p, const core::Track& track, size_t index);
    void paint_cut(QPainter& p, const CutScore& cut);

    ProjectDocument* document_;
    int64_t playhead_ = 0;
    double pixels_per_frame_ = 8.0;
    bool snapping_ = true;
    std::string selected_track_;
    std::string selected_clip_;
    enum class Drag { None, Playhead, Clip, TrimIn, TrimOut } drag_ = Drag::None;
    int64_t grab_offset_ = 0;            ///< frames between the clip's start and the grab point
    std::optional<core::Clip> grabbed_;  ///< the clip as it was when a trim drag began
    std::vector<CutScore> cut_scores_;
};

}  // namespace fl::studio
