#include "ui/timeline_view.h"

#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>

#include "frameloom/core/edit.h"
#include "frameloom/core/time.h"
#include "ui/project_document.h"

namespace fl::studio {

TimelineView::TimelineView(ProjectDocument* document, QWidget* parent)
    : QWidget(parent), document_(document) {
    setObjectName("timeline");
    setMouseTracking(false);
    setFocusPolicy(Qt::ClickFocus);
    connect(document_, &ProjectDocument::changed, this, &TimelineView::refresh);
    connect(document_, &ProjectDocument::replaced, this, [this] {
        selected_clip_.clear();
        selected_track_.clear();
        playhead_ = 0;
        refresh();
    });
}

int TimelineView::xForFrame(int64_t frame) const {
    return kHeaderWidth + static_cast<int>(std::lround(static_cast<double>(frame) * pixels_per_frame_));
}

int64_t TimelineView::frameAt(int x) const {
    return static_cast<int64_t>(std::floor(static_cast<double>(x - kHeaderWidth) / pixels_per_frame_));
}

int TimelineView::track_at(int y) const {
    if (y < kRulerHeight) return -1;
    const int index = (y - kRulerHeight) / kTrackHeight;
    return index < static_cast<int>(document_->project().sequence.tracks.size()) ? index : -1;
}

QRect TimelineView::clipRect(const std::string& track_id, const std::string& clip_id) const {
    const auto& tracks = document_->project().sequence.tracks;
    for (size_t t = 0; t < tracks.size(); ++t) {
        if (tracks[t].id != track_id) continue;
        for (const auto& clip : tracks[t].clips) {
            if (clip.id != clip_id) continue;
            const int x0 = xForFrame(clip.position);
            const int x1 = xForFrame(clip.end());
            const int y = kRulerHeight + static_cast<int>(t) * kTrackHeight;
            return QRect(x0, y + 3, std::max(x1 - x0, 2), kTrackHeight - 6);
        }
    }
    return {};
}

QSize TimelineView::sizeHint() const {
    const auto& seq = document_->project().sequence;
    // Room for the edit plus ten seconds to drag into.
    const int64_t frames = seq.duration() + core::frames_for_seconds(10.0, seq.fps);
    const int tracks = std::max<int>(static_cast<int>(seq.tracks.size()), 1);
    return {xForFrame(frames), kRulerHeight + tracks * kTrackHeight + 4};
}

QSize TimelineView::minimumSizeHint() const { return sizeHint(); }

void TimelineView::refresh() {
    const auto& seq = document_->project().sequence;
    const core::Track* track = seq.find_track(selected_track_);
    if (!selected_clip_.empty() && (!track || track->index_of(selected_clip_) < 0)) {
        // The clip may have moved to another track (undo of a move across tracks).
        std::string found;
        for (const auto& t : seq.tracks) {
            if (t.index_of(selected_clip_) >= 0) found = t.id;
        }
        if (found.empty()) {
            selected_clip_.clear();
            selected_track_.clear();
            emit clipSelected({}, {});
        } else {
            selected_track_ = found;
        }
    }
    setMinimumSize(sizeHint());
    updateGeometry();
    update();
}

void TimelineView::setPlayhead(qint64 frame) {
    frame = std::max<qint64>(frame, 0);
    if (frame == playhead_) return;
    playhead_ = frame;
    update();
}

void TimelineView::selectClip(const QString& track_id, const QString& clip_id) {
    const std::string t = track_id.toStdString();
    const std::string c = clip_id.toStdString();
    if (t == selected_track_ && c == selected_clip_) return;
    selected_track_ = t;
    selected_clip_ = c;
    update();
    emit clipSelected(track_id, clip_id);
}

void TimelineView::setPixelsPerFrame(double ppf) {
    pixels_per_frame_ = std::clamp(ppf, 0.25, 64.0);
    refresh();
}

int64_t TimelineView::ruler_step() const {
    // A label every >= 90 px: whole frames below a second, whole seconds (then minutes) above.
    const int64_t fps =
        std::max<int64_t>(1, static_cast<int64_t>(std::ceil(document_->project().sequence.fps.to_double())));
    int64_t step = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(90.0 / pixels_per_frame_)));
    if (step >= fps) {
        int64_t seconds = (step + fps - 1) / fps;
        for (int64_t nice : {1, 2, 5, 10, 15, 30, 60, 120, 300, 600}) {
            if (nice >= seconds) {
                seconds = nice;
                break;
            }
        }
        return seconds * fps;
    }
    for (int64_t d = step; d <= fps; ++d) {
        if (fps % d == 0) return d;
    }
    return fps;
}

void TimelineView::paintEvent(QPaintEvent*) {
    QPainter p(this);
    const auto& seq = document_->project().sequence;
    const QPalette& pal = palette();
    p.fillRect(rect(), pal.color(QPalette::Base));

    // Ruler.
    p.fillRect(QRect(0, 0, width(), kRulerHeight), pal.color(QPalette::Window));
    p.setPen(pal.color(QPalette::WindowText));
    const int64_t step = ruler_step();
    const int64_t last = frameAt(width()) + 1;
    QFont small = font();
    small.setPointSizeF(std::max(6.0, small.pointSizeF() * 0.8));
    p.setFont(small);
    const int64_t minor = std::max<int64_t>(1, step / (step % 4 == 0 ? 4 : (step % 2 == 0 ? 2 : 1)));
    for (int64_t f = 0; f <= last; f += minor) {
        const int x = xForFrame(f);
        const bool major = f % step == 0;
        p.drawLine(x, kRulerHeight - (major ? 10 : 5), x, kRulerHeight - 1);
        if (major) {
            p.drawText(x + 3, 12, QString::fromStdString(core::FrameTime{f, seq.fps}.timecode()));
        }
    }
    p.drawLine(0, kRulerHeight - 1, width(), kRulerHeight - 1);

    // Tracks and clips.
    p.setFont(font());
    for (size_t t = 0; t < seq.tracks.size(); ++t) {
        const core::Track& track = seq.tracks[t];
        const int y = kRulerHeight + static_cast<int>(t) * kTrackHeight;
        p.fillRect(QRect(kHeaderWidth, y, width() - kHeaderWidth, kTrackHeight),
                   t % 2 ? pal.color(QPalette::AlternateBase) : pal.color(QPalette::Base));
        p.fillRect(QRect(0, y, kHeaderWidth, kTrackHeight), pal.color(QPalette::Button));
        p.setPen(pal.color(QPalette::ButtonText));
        p.drawText(QRect(4, y, kHeaderWidth - 8, kTrackHeight), Qt::AlignVCenter | Qt::AlignLeft,
                   QString::fromStdString(track.name.empty() ? track.id : track.name));
        for (const core::Clip& clip : track.clips) {
            const QRect r = clipRect(track.id, clip.id);
            const bool selected = clip.id == selected_clip_ && track.id == selected_track_;
            const QColor fill =
                track.kind == core::TrackKind::Video ? QColor(70, 110, 170) : QColor(70, 150, 100);
            p.fillRect(r, selected ? fill.lighter(140) : fill);
            p.setPen(selected ? QPen(Qt::white, 2) : QPen(fill.darker(150), 1));
            p.drawRect(r.adjusted(0, 0, -1, -1));
            p.setPen(Qt::white);
            const QRect text = r.adjusted(4, 2, -4, -2);
            const QString name = QString::fromStdString(clip.name.empty() ? clip.id : clip.name);
            p.drawText(text, Qt::AlignLeft | Qt::AlignVCenter,
                       p.fontMetrics().elidedText(name, Qt::ElideRight, text.width()));
        }
        p.setPen(pal.color(QPalette::Mid));
        p.drawLine(0, y + kTrackHeight - 1, width(), y + kTrackHeight - 1);
    }

    // Playhead.
    const int x = xForFrame(playhead_);
    p.setPen(QPen(QColor(220, 50, 50), 1));
    p.drawLine(x, 0, x, height());
    p.setBrush(QColor(220, 50, 50));
    const QPoint head[] = {QPoint(x - 5, 0), QPoint(x + 5, 0), QPoint(x, 7)};
    p.drawPolygon(head, 3);
}

void TimelineView::mousePressEvent(QMouseEvent* event) {
    if (event->button() != Qt::LeftButton) return QWidget::mousePressEvent(event);
    const QPoint pos = event->position().toPoint();
    if (pos.y() < kRulerHeight) {
        drag_ = Drag::Playhead;
        const int64_t f = std::max<int64_t>(frameAt(pos.x()), 0);
        setPlayhead(f);
        emit playheadMoved(f);
        return;
    }
    const int t = track_at(pos.y());
    if (t >= 0) {
        const core::Track& track = document_->project().sequence.tracks[static_cast<size_t>(t)];
        for (const core::Clip& clip : track.clips) {
            if (clipRect(track.id, clip.id).contains(pos)) {
                selectClip(QString::fromStdString(track.id), QString::fromStdString(clip.id));
                drag_ = Drag::Clip;
                grab_offset_ = frameAt(pos.x()) - clip.position;
                return;
            }
        }
    }
    selectClip({}, {});
    drag_ = Drag::None;
}

void TimelineView::mouseMoveEvent(QMouseEvent* event) {
    const QPoint pos = event->position().toPoint();
    if (drag_ == Drag::Playhead) {
        const int64_t f = std::max<int64_t>(frameAt(pos.x()), 0);
        setPlayhead(f);
        emit playheadMoved(f);
        return;
    }
    if (drag_ != Drag::Clip || selected_clip_.empty()) return;
    const auto& seq = document_->project().sequence;
    const core::Track* from = seq.find_track(selected_track_);
    if (!from) return;
    const int from_index = from->index_of(selected_clip_);
    if (from_index < 0) return;
    const core::Clip& clip = from->clips[static_cast<size_t>(from_index)];
    const int64_t position = std::max<int64_t>(frameAt(pos.x()) - grab_offset_, 0);
    const int t = track_at(pos.y());
    std::string to_track = selected_track_;
    if (t >= 0 && seq.tracks[static_cast<size_t>(t)].kind == from->kind)
        to_track = seq.tracks[static_cast<size_t>(t)].id;
    if (position == clip.position && to_track == selected_track_) return;
    // Consecutive moves of one clip merge in the UndoStack: the whole drag is one undo step.
    // A refused move (overlap) changes nothing and the clip simply stays put.
    auto moved = document_->push(core::make_move_clip(selected_track_, selected_clip_, to_track, position));
    if (moved && to_track != selected_track_) {
        selected_track_ = to_track;
        emit clipSelected(QString::fromStdString(selected_track_), QString::fromStdString(selected_clip_));
    }
}

void TimelineView::mouseReleaseEvent(QMouseEvent* event) {
    drag_ = Drag::None;
    QWidget::mouseReleaseEvent(event);
}

void TimelineView::wheelEvent(QWheelEvent* event) {
    if (event->modifiers() & Qt::ControlModifier) {
        setPixelsPerFrame(pixels_per_frame_ * (event->angleDelta().y() > 0 ? 1.25 : 0.8));
        event->accept();
        return;
    }
    QWidget::wheelEvent(event);
}

void TimelineView::keyPressEvent(QKeyEvent* event) {
    if ((event->key() == Qt::Key_Delete || event->key() == Qt::Key_Backspace) && !selected_clip_.empty()) {
        auto removed = document_->push(core::make_remove_clip(selected_track_, selected_clip_));
        if (!removed) emit editFailed(QString::fromStdString(removed.message()));
        event->accept();
        return;
    }
    QWidget::keyPressEvent(event);
}

}  // namespace fl::studio
