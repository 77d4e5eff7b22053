#pragma once
/// The timeline: a time ruler with timecodes, tracks with clips, and a playhead. Click selects a clip,
/// dragging moves it through make_move_clip (one merged undo step per drag).

#include <QWidget>
#include <cstdint>
#include <string>

namespace fl::studio {

class ProjectDocument;

/// Paints the sequence of the document and turns mouse gestures into UndoStack commands.
class TimelineView : public QWidget {
    Q_OBJECT
public:
    explicit TimelineView(ProjectDocument* document, QWidget* parent = nullptr);

    int64_t playhead() const { return playhead_; }
    const std::string& selectedClip() const { return selected_clip_; }
    const std::string& selectedTrack() const { return selected_track_; }
    double pixelsPerFrame() const { return pixels_per_frame_; }

    /// Geometry, shared by painting, hit tests and tests.
    static constexpr int kHeaderWidth = 64;
    static constexpr int kRulerHeight = 26;
    static constexpr int kTrackHeight = 44;
    /// x coordinate of a sequence frame, and the frame under an x coordinate.
    int xForFrame(int64_t frame) const;
    int64_t frameAt(int x) const;
    /// Rectangle of a clip ({} when not found).
    QRect clipRect(const std::string& track_id, const std::string& clip_id) const;

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

public slots:
    void setPlayhead(qint64 frame);
    void selectClip(const QString& track_id, const QString& clip_id);
    void setPixelsPerFrame(double ppf);
    /// Re-reads the document (sizes and selection) and repaints.
    void refresh();

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

private:
    int track_at(int y) const;  ///< index of the track row under y, or -1
    int64_t ruler_step() const;

    ProjectDocument* document_;
    int64_t playhead_ = 0;
    double pixels_per_frame_ = 8.0;
    std::string selected_track_;
    std::string selected_clip_;
    enum class Drag { None, Playhead, Clip } drag_ = Drag::None;
    int64_t grab_offset_ = 0;  ///< frames between the clip's start and the grab point
};

}  // namespace fl::studio
