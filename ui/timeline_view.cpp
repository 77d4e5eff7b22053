#include "ui/timeline_view.h"

#include <QContextMenuEvent>
#include <QDialog>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QInputDialog>
#include <QKeyEvent>
#include <QMenu>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QSpinBox>
#include <QToolTip>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>
#include <filesystem>

#include "frameloom/media/audio.h"
#include "ui/project_document.h"

namespace fl::studio {

namespace {
QString qs(const std::string& s) { return QString::fromStdString(s); }

/// "2x", "1/2x", "1.5x": the speed badge.
QString speed_badge(const core::Rational& speed) {
    if (speed.den == 1) return QStringLiteral("%1x").arg(speed.num);
    const double v = speed.to_double();
    if (std::abs(v * 100.0 - std::round(v * 100.0)) < 1e-9) return QStringLiteral("%1x").arg(v);
    return QStringLiteral("%1/%2x").arg(speed.num).arg(speed.den);
}
}  // namespace

TimelineView::TimelineView(ProjectDocument* document, QWidget* parent)
    : QWidget(parent), document_(document) {
    setObjectName("timeline");
    setMouseTracking(true);  // the cursor shows when an edge can be trimmed
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

QString TimelineView::timecode(int64_t frame) const {
    return qs(core::FrameTime{frame, document_->project().sequence.fps}.timecode());
}

QRect TimelineView::clipRect(const std::string& track_id, const std::string& clip_id) const {
    const auto& tracks = document_->project().sequence.tracks;
    for (size_t t = 0; t < tracks.size(); ++t) {
        if (tracks[t].id != track_id) continue;
        for (const auto& clip : tracks[t].clips) {
            if (clip.id != clip_id) continue;
            const int x0 = xForFrame(clip.position);
            const int x1 = xForFrame(clip.end());
            const int y = yForTrack(static_cast<int>(t));
            return QRect(x0, y + 3, std::max(x1 - x0, 2), kTrackHeight - 6);
        }
    }
    return {};
}

int64_t TimelineView::snapFrame(int64_t frame, const std::string& ignore_clip) const {
    if (!snapping_) return frame;
    const double reach = kSnapPixels / pixels_per_frame_;
    int64_t best = frame;
    double best_distance = reach + 1.0;
    auto consider = [&](int64_t target) {
        const double d = std::abs(static_cast<double>(target - frame));
        if (d <= reach && d < best_distance) {
            best = target;
            best_distance = d;
        }
    };
    consider(playhead_);
    consider(0);
    for (const core::Track& track : document_->project().sequence.tracks) {
        for (const core::Clip& clip : track.clips) {
            if (clip.id == ignore_clip) continue;
            consider(clip.position);
            consider(clip.end());
        }
    }
    return best;
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

void TimelineView::zoomIn() { setPixelsPerFrame(pixels_per_frame_ * 1.5); }
void TimelineView::zoomOut() { setPixelsPerFrame(pixels_per_frame_ / 1.5); }
void TimelineView::setSnapping(bool on) { snapping_ = on; }

const core::Clip* TimelineView::selected() const {
    const core::Track* track = document_->project().sequence.find_track(selected_track_);
    if (!track) return nullptr;
    const int i = track->index_of(selected_clip_);
    return i < 0 ? nullptr : &track->clips[static_cast<size_t>(i)];
}

// ---- edits ----

bool TimelineView::apply(std::unique_ptr<core::Command> command) {
    auto done = document_->push(std::move(command));
    if (!done) {
        emit editFailed(qs(done.message()));
        return false;
    }
    return true;
}

bool TimelineView::add_track(core::TrackKind kind) {
    core::Track track;
    track.kind = kind;  // the command names it V2, A1, ... and gives it a fresh id
    return apply(core::make_add_track(std::move(track)));
}

bool TimelineView::addVideoTrack() { return add_track(core::TrackKind::Video); }
bool TimelineView::addAudioTrack() { return add_track(core::TrackKind::Audio); }

bool TimelineView::moveClip(const QString& track_id, const QString& clip_id, const QString& to_track,
                            qint64 position) {
    const bool moved = apply(core::make_move_clip(track_id.toStdString(), clip_id.toStdString(),
                                                  to_track.toStdString(), position));
    if (moved && clip_id.toStdString() == selected_clip_ && to_track.toStdString() != selected_track_) {
        selected_track_ = to_track.toStdString();
        emit clipSelected(to_track, clip_id);
    }
    return moved;
}

bool TimelineView::trimIn(const QString& track_id, const QString& clip_id, qint64 new_in) {
    return apply(core::make_trim_in(track_id.toStdString(), clip_id.toStdString(), new_in));
}

bool TimelineView::trimOut(const QString& track_id, const QString& clip_id, qint64 new_out) {
    return apply(core::make_trim_out(track_id.toStdString(), clip_id.toStdString(), new_out));
}

bool TimelineView::splitAtPlayhead() {
    // The selected clip when the playhead is inside it, else the topmost clip under the playhead.
    const auto& seq = document_->project().sequence;
    std::string track_id, clip_id;
    if (const core::Clip* c = selected(); c && c->position < playhead_ && playhead_ < c->end()) {
        track_id = selected_track_;
        clip_id = c->id;
    } else {
        for (auto t = seq.tracks.rbegin(); t != seq.tracks.rend() && clip_id.empty(); ++t) {
            for (const core::Clip& c : t->clips) {
                if (c.position < playhead_ && playhead_ < c.end()) {
                    track_id = t->id;
                    clip_id = c.id;
                }
            }
        }
    }
    if (clip_id.empty()) {
        emit editFailed(tr("no clip under the playhead to split"));
        return false;
    }
    return apply(core::make_split_clip(track_id, clip_id, playhead_));
}

bool TimelineView::rippleDeleteSelected() {
    if (!selected()) {
        emit editFailed(tr("select a clip to ripple delete"));
        return false;
    }
    return apply(core::make_ripple_delete(selected_track_, selected_clip_));
}

bool TimelineView::deleteSelected() {
    if (!selected()) {
        emit editFailed(tr("select a clip to delete"));
        return false;
    }
    return apply(core::make_remove_clip(selected_track_, selected_clip_));
}

bool TimelineView::setCrossfade(qint64 frames) {
    if (!selected()) {
        emit editFailed(tr("select the clip a crossfade leads into"));
        return false;
    }
    return apply(frames == 0 ? core::make_clear_transition(selected_track_, selected_clip_)
                             : core::make_set_transition(selected_track_, selected_clip_, frames));
}

bool TimelineView::setSpeed(const QString& speed) {
    if (!selected()) {
        emit editFailed(tr("select a clip to change its speed"));
        return false;
    }
    auto parsed = core::parse_speed(speed.trimmed().toStdString());
    if (!parsed) {
        emit editFailed(qs(parsed.message()));
        return false;
    }
    return apply(core::make_set_speed(selected_track_, selected_clip_, *parsed));
}

bool TimelineView::setFades(qint64 fade_in, qint64 fade_out) {
    if (!selected()) {
        emit editFailed(tr("select a clip to fade"));
        return false;
    }
    return apply(core::make_set_fades(selected_track_, selected_clip_, fade_in, fade_out));
}

bool TimelineView::setGain(double gain_db) {
    if (!selected()) {
        emit editFailed(tr("select an audio clip to change its gain"));
        return false;
    }
    return apply(core::make_set_gain(selected_track_, selected_clip_, gain_db));
}

bool TimelineView::addMusic(const QString& path) {
    const std::filesystem::path file(path.toStdString());
    auto seconds = media::probe_audio_seconds(file);
    if (!seconds) {
        emit editFailed(qs(seconds.message()));
        return false;
    }
    const core::Project& project = document_->project();
    const core::FrameRate fps = project.sequence.fps;
    const int64_t frames = std::max<int64_t>(core::frames_for_seconds(*seconds, fps), 1);
    const std::string name = file.filename().string();
    const std::string reference = document_->media_reference(std::filesystem::absolute(file));

    // The selected audio track, else the first; none: a new one in the same undo step.
    const core::Track* track = nullptr;
    if (const core::Track* t = project.sequence.find_track(selected_track_);
        t && t->kind == core::TrackKind::Audio)
        track = t;
    for (const core::Track& t : project.sequence.tracks)
        if (!track && t.kind == core::TrackKind::Audio) track = &t;
    std::string track_id;
    int64_t position = playhead_;
    std::vector<std::unique_ptr<core::Command>> steps;
    if (track) {
        track_id = track->id;
        if (!track->is_free(position, frames)) position = track->end();
    } else {
        core::Project scratch = project;  // the id AddTrack would pick, known before it runs
        core::Track fresh;
        fresh.kind = core::TrackKind::Audio;
        fresh.id = scratch.fresh_id("track");
        track_id = fresh.id;
        steps.push_back(core::make_add_track(std::move(fresh)));
    }
    steps.push_back(core::make_add_audio_clip(track_id, reference, position, frames, 0.0, name));
    if (!apply(core::make_macro("Add music " + name, std::move(steps)))) return false;
    if (const core::Track* t = document_->project().sequence.find_track(track_id)) {
        for (const core::Clip& c : t->clips)
            if (c.position == position) selectClip(qs(track_id), qs(c.id));
    }
    return true;
}

// ---- dialogs ----

void TimelineView::promptCrossfade() {
    const core::Clip* clip = selected();
    if (!clip) {
        emit editFailed(tr("select the clip a crossfade leads into"));
        return;
    }
    bool ok = false;
    const int frames =
        QInputDialog::getInt(this, tr("Crossfade"), tr("Crossfade from the previous clip (frames):"),
                             static_cast<int>(std::max<int64_t>(clip->transition_in, 4)), 0, 100000, 1, &ok);
    if (ok && setCrossfade(frames)) document_->end_gesture();
}

void TimelineView::promptSpeed() {
    const core::Clip* clip = selected();
    if (!clip) {
        emit editFailed(tr("select a clip to change its speed"));
        return;
    }
    bool ok = false;
    const QString text =
        QInputDialog::getText(this, tr("Clip speed"), tr("Speed (2 = twice as fast, 1/2 = half):"),
                              QLineEdit::Normal, qs(core::to_string(clip->speed)), &ok);
    if (ok && setSpeed(text)) document_->end_gesture();
}

void TimelineView::promptFades() {
    const core::Clip* clip = selected();
    if (!clip) {
        emit editFailed(tr("select a clip to fade"));
        return;
    }
    QDialog dialog(this);
    dialog.setWindowTitle(tr("Fades"));
    auto* form = new QFormLayout(&dialog);
    auto* in = new QSpinBox(&dialog);
    auto* out = new QSpinBox(&dialog);
    for (QSpinBox* box : {in, out}) {
        box->setRange(0, static_cast<int>(clip->duration()));
        box->setSuffix(tr(" frames"));
    }
    in->setValue(static_cast<int>(clip->fade_in));
    out->setValue(static_cast<int>(clip->fade_out));
    form->addRow(tr("Fade in:"), in);
    form->addRow(tr("Fade out:"), out);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, &dialog);
    form->addRow(buttons);
    connect(buttons, &QDialogButtonBox::accepted, &dialog, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
    // A dialog is a discrete edit: the next fade edit of this clip is a new undo step.
    if (dialog.exec() == QDialog::Accepted && setFades(in->value(), out->value())) document_->end_gesture();
}

void TimelineView::promptGain() {
    const core::Clip* clip = selected();
    if (!clip) {
        emit editFailed(tr("select an audio clip to change its gain"));
        return;
    }
    bool ok = false;
    const double db =
        QInputDialog::getDouble(this, tr("Gain"), tr("Gain (dB):"), clip->gain_db, -96.0, 24.0, 1, &ok);
    if (ok && setGain(db)) document_->end_gesture();
}

void TimelineView::promptAddMusic() {
    const QString path =
        QFileDialog::getOpenFileName(this, tr("Add music"), QString(),
                                     tr("Audio (*.wav *.mp3 *.flac *.ogg *.m4a *.aac *.opus);;"
                                        "All files (*)"));
    if (!path.isEmpty()) addMusic(path);
}

// ---- painting ----

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

void TimelineView::paint_clip(QPainter& p, const core::Track& track, size_t index) {
    const core::Clip& clip = track.clips[index];
    const QRect r = clipRect(track.id, clip.id);
    const bool selected = clip.id == selected_clip_ && track.id == selected_track_;
    const bool video = track.kind == core::TrackKind::Video;
    const QColor fill = video ? QColor(70, 110, 170) : QColor(70, 150, 100);
    p.fillRect(r, selected ? fill.lighter(140) : fill);

    // Fades: a dark wedge over the faded part, its edge the level ramp (0 at the clip's edge).
    p.setPen(Qt::NoPen);
    p.setBrush(QColor(0, 0, 0, 110));
    const double ppf = pixels_per_frame_;
    if (clip.fade_in > 0) {
        const int w = static_cast<int>(std::lround(static_cast<double>(clip.fade_in) * ppf));
        const QPoint wedge[] = {r.topLeft(), QPoint(r.left() + w, r.top()), r.bottomLeft()};
        p.drawPolygon(wedge, 3);
    }
    if (clip.fade_out > 0) {
        const int w = static_cast<int>(std::lround(static_cast<double>(clip.fade_out) * ppf));
        const QPoint wedge[] = {QPoint(r.right() - w, r.top()), r.topRight(), r.bottomRight()};
        p.drawPolygon(wedge, 3);
    }

    // Audio: the gain as a level line (0 dB at mid-height, ±24 dB at the edges) and its value.
    QString label = qs(clip.name.empty() ? clip.id : clip.name);
    if (!video) {
        const double g = std::clamp(clip.gain_db, -24.0, 24.0) / 24.0;
        const int y = r.center().y() - static_cast<int>(g * (r.height() / 2 - 2));
        p.setPen(QPen(QColor(250, 230, 120), 1));
        p.drawLine(r.left(), y, r.right(), y);
        if (clip.gain_db != 0.0) label += QStringLiteral("  %1 dB").arg(clip.gain_db, 0, 'f', 1);
    }

    p.setBrush(Qt::NoBrush);
    p.setPen(selected ? QPen(Qt::white, 2) : QPen(fill.darker(150), 1));
    p.drawRect(r.adjusted(0, 0, -1, -1));

    // Speed badge, top right. The name starts after a crossfade into the clip, so both names stay readable.
    const int64_t overlap = track.overlap_before(index);
    const int overlap_px = overlap > 0 ? xForFrame(clip.position + overlap) - xForFrame(clip.position) : 0;
    QRect text = r.adjusted(4 + overlap_px, 2, -4, -2);
    if (clip.speed != core::Rational{1, 1}) {
        const QString badge = speed_badge(clip.speed);
        const int bw = p.fontMetrics().horizontalAdvance(badge) + 6;
        const QRect b(r.right() - bw - 2, r.top() + 2, bw, p.fontMetrics().height());
        if (b.left() > r.left() + 2) {
            p.setPen(Qt::NoPen);
            p.setBrush(QColor(230, 140, 40));
            p.drawRoundedRect(b, 3, 3);
            p.setPen(Qt::black);
            p.drawText(b, Qt::AlignCenter, badge);
            text.setRight(b.left() - 2);
        }
    }
    p.setPen(Qt::white);
    p.drawText(text, Qt::AlignLeft | Qt::AlignTop,
               p.fontMetrics().elidedText(label, Qt::ElideRight, std::max(text.width(), 0)));

    // A live crossfade into this clip: the shared frames drawn as a dissolve (an X over both clips).
    if (overlap > 0) {
        const QRect x(xForFrame(clip.position), r.top(), overlap_px, r.height());
        p.fillRect(x, QColor(200, 120, 220, 170));
        p.setPen(QPen(Qt::white, 1));
        p.drawLine(x.topLeft(), x.bottomRight());
        p.drawLine(x.bottomLeft(), x.topRight());
    }
}

void TimelineView::paintEvent(QPaintEvent*) {
    QPainter p(this);
    const auto& seq = document_->project().sequence;
    const QPalette& pal = palette();
    p.fillRect(rect(), pal.color(QPalette::Base));

    // Ruler: HH:MM:SS:FF at the sequence rate.
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
        if (major) p.drawText(x + 3, 12, timecode(f));
    }
    p.drawLine(0, kRulerHeight - 1, width(), kRulerHeight - 1);

    // Tracks and clips.
    for (size_t t = 0; t < seq.tracks.size(); ++t) {
        const core::Track& track = seq.tracks[t];
        const int y = yForTrack(static_cast<int>(t));
        const bool video = track.kind == core::TrackKind::Video;
        QColor row = t % 2 ? pal.color(QPalette::AlternateBase) : pal.color(QPalette::Base);
        if (!video) row = row.darker(106);
        p.fillRect(QRect(kHeaderWidth, y, width() - kHeaderWidth, kTrackHeight), row);
        p.fillRect(QRect(0, y, kHeaderWidth, kTrackHeight), pal.color(QPalette::Button));
        p.setPen(pal.color(QPalette::ButtonText));
        p.setFont(font());
        p.drawText(QRect(4, y, kHeaderWidth - 8, kTrackHeight), Qt::AlignVCenter | Qt::AlignLeft,
                   QString::fromStdString(track.name.empty() ? track.id : track.name));
        p.setFont(small);
        for (size_t i = 0; i < track.clips.size(); ++i) paint_clip(p, track, i);
        p.setPen(pal.color(QPalette::Mid));
        p.drawLine(0, y + kTrackHeight - 1, width(), y + kTrackHeight - 1);
    }

    for (const CutScore* cut : currentCutScores()) paint_cut(p, *cut);

    // Playhead.
    const int x = xForFrame(playhead_);
    p.setPen(QPen(QColor(220, 50, 50), 1));
    p.drawLine(x, 0, x, height());
    p.setBrush(QColor(220, 50, 50));
    const QPoint head[] = {QPoint(x - 5, 0), QPoint(x + 5, 0), QPoint(x, 7)};
    p.drawPolygon(head, 3);
}

// ---- cut scores ----

CutGrade grade_cut(const consistency::SeamMetrics& seam) {
    const double jump = std::abs(seam.brightness_jump);
    if (seam.delta_e < 3.0 && jump < 5.0) return CutGrade::Ok;
    if (seam.delta_e < 8.0 && jump < 12.0) return CutGrade::Visible;
    return CutGrade::Jump;
}

QString cut_badge_text(const consistency::SeamMetrics& seam) {
    return QStringLiteral("\u0394E %1").arg(seam.delta_e, 0, 'f', 1);
}

QString cut_tooltip(const CutScore& cut) {
    const consistency::SeamMetrics& s = cut.metrics.seam;
    const char* grade = grade_cut(s) == CutGrade::Ok ? "hardly visible" : grade_cut(s) == CutGrade::Visible ? "visible" : "a jump";
    return QStringLiteral("Cut %1 | %2: %3\ncolour shift \u0394E00 %4 (worst cell %5)\nbrightness jump %6 L*\n"
                          "motion %7 \u2192 %8 px/frame (jump %9, direction change %10\u00b0)")
        .arg(QString::fromStdString(cut.from.name.empty() ? cut.from.id : cut.from.name),
             QString::fromStdString(cut.to.name.empty() ? cut.to.id : cut.to.name), QString::fromLatin1(grade))
        .arg(s.delta_e, 0, 'f', 2)
        .arg(s.delta_e_max, 0, 'f', 2)
        .arg(s.brightness_jump, 0, 'f', 2)
        .arg(s.speed_before, 0, 'f', 2)
        .arg(s.speed_after, 0, 'f', 2)
        .arg(s.motion_jump, 0, 'f', 2)
        .arg(s.direction_change, 0, 'f', 0);
}

void TimelineView::setCutScores(std::vector<CutScore> cuts) {
    cut_scores_ = std::move(cuts);
    update();
}

std::vector<const CutScore*> TimelineView::currentCutScores() const {
    std::vector<const CutScore*> out;
    const auto& tracks = document_->project().sequence.tracks;
    for (const CutScore& cut : cut_scores_) {
        const auto track = std::find_if(tracks.begin(), tracks.end(),
                                        [&](const core::Track& t) { return t.id == cut.metrics.track_id; });
        if (track == tracks.end()) continue;
        for (size_t i = 1; i < track->clips.size(); ++i) {
            if (track->clips[i - 1] == cut.from && track->clips[i] == cut.to) {
                out.push_back(&cut);
                break;
            }
        }
    }
    return out;
}

QRect TimelineView::cutBadgeRect(const CutScore& cut) const {
    const auto& tracks = document_->project().sequence.tracks;
    for (size_t t = 0; t < tracks.size(); ++t) {
        if (tracks[t].id != cut.metrics.track_id) continue;
        const QFontMetrics metrics(font());
        const int w = metrics.horizontalAdvance(cut_badge_text(cut.metrics.seam)) + 8;
        const int h = metrics.height() + 2;
        // Centred on the cut, at the bottom of the row (clip names are drawn at the top).
        return QRect(xForFrame(cut.to.position) - w / 2, yForTrack(static_cast<int>(t)) + kTrackHeight - h - 3, w, h);
    }
    return {};
}

void TimelineView::paint_cut(QPainter& p, const CutScore& cut) {
    const QRect r = cutBadgeRect(cut);
    if (r.isNull()) return;
    const CutGrade grade = grade_cut(cut.metrics.seam);
    const QColor fill = grade == CutGrade::Ok        ? QColor(60, 150, 80)
                        : grade == CutGrade::Visible ? QColor(200, 150, 40)
                                                     : QColor(200, 60, 50);
    p.save();
    p.setPen(fill.darker(140));
    p.setBrush(fill);
    p.drawRoundedRect(r, 4, 4);
    p.setPen(Qt::white);
    p.setFont(font());
    p.drawText(r, Qt::AlignCenter, cut_badge_text(cut.metrics.seam));
    p.restore();
}

bool TimelineView::event(QEvent* event) {
    if (event->type() == QEvent::ToolTip) {
        auto* help = static_cast<QHelpEvent*>(event);
        for (const CutScore* cut : currentCutScores()) {
            if (cutBadgeRect(*cut).contains(help->pos())) {
                QToolTip::showText(help->globalPos(), cut_tooltip(*cut), this);
                return true;
            }
        }
        QToolTip::hideText();
        event->ignore();
        return true;
    }
    return QWidget::event(event);
}

// ---- mouse and keys ----

void TimelineView::mousePressEvent(QMouseEvent* event) {
    if (event->button() != Qt::LeftButton) return QWidget::mousePressEvent(event);
    setFocus(Qt::MouseFocusReason);
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
        // Last first: of two clips sharing a crossfade, the later one is drawn on top.
        for (auto c = track.clips.rbegin(); c != track.clips.rend(); ++c) {
            const QRect r = clipRect(track.id, c->id);
            if (!r.contains(pos)) continue;
            selectClip(qs(track.id), qs(c->id));
            grabbed_ = *c;
            const bool wide = r.width() > 3 * kEdgeGrab;
            if (wide && pos.x() - r.left() < kEdgeGrab)
                drag_ = Drag::TrimIn;
            else if (wide && r.right() - pos.x() < kEdgeGrab)
                drag_ = Drag::TrimOut;
            else
                drag_ = Drag::Clip;
            grab_offset_ = frameAt(pos.x()) - c->position;
            return;
        }
    }
    selectClip({}, {});
    drag_ = Drag::None;
}

void TimelineView::mouseMoveEvent(QMouseEvent* event) {
    const QPoint pos = event->position().toPoint();
    if (drag_ == Drag::None) {
        // Hover: a resize cursor over a clip's edge.
        Qt::CursorShape shape = Qt::ArrowCursor;
        const int t = track_at(pos.y());
        if (t >= 0) {
            const core::Track& track = document_->project().sequence.tracks[static_cast<size_t>(t)];
            for (const core::Clip& c : track.clips) {
                const QRect r = clipRect(track.id, c.id);
                if (r.contains(pos) && r.width() > 3 * kEdgeGrab &&
                    (pos.x() - r.left() < kEdgeGrab || r.right() - pos.x() < kEdgeGrab))
                    shape = Qt::SizeHorCursor;
            }
        }
        setCursor(shape);
        return;
    }
    if (drag_ == Drag::Playhead) {
        const int64_t f = std::max<int64_t>(frameAt(pos.x()), 0);
        setPlayhead(f);
        emit playheadMoved(f);
        return;
    }
    const core::Clip* clip = selected();
    if (!clip || !grabbed_) return;
    const auto& seq = document_->project().sequence;
    const core::Track* from = seq.find_track(selected_track_);
    const QString track_id = qs(selected_track_), clip_id = qs(selected_clip_);
    const int64_t at = frameAt(pos.x());
    const double speed = grabbed_->speed.to_double();

    if (drag_ == Drag::TrimIn) {
        // The head follows the mouse (snapped); the end stays. Source frames move by frames × speed.
        const int64_t start = snapFrame(std::max<int64_t>(at, 0), selected_clip_);
        int64_t new_in =
            grabbed_->in +
            static_cast<int64_t>(std::floor(static_cast<double>(start - grabbed_->position) * speed));
        new_in = std::clamp<int64_t>(new_in, 0, grabbed_->out - 1);
        if (new_in != clip->in) trimIn(track_id, clip_id, new_in);
        return;
    }
    if (drag_ == Drag::TrimOut) {
        const int64_t end = snapFrame(std::max<int64_t>(at + 1, grabbed_->position + 1), selected_clip_);
        int64_t new_out =
            grabbed_->in +
            static_cast<int64_t>(std::ceil(static_cast<double>(end - grabbed_->position) * speed));
        new_out = std::max<int64_t>(new_out, grabbed_->in + 1);
        if (new_out != clip->out) trimOut(track_id, clip_id, new_out);
        return;
    }

    // Move: the start or the end snaps to the nearest edge or the playhead.
    int64_t position = std::max<int64_t>(at - grab_offset_, 0);
    const int64_t snapped_start = snapFrame(position, selected_clip_);
    const int64_t snapped_end = snapFrame(position + clip->duration(), selected_clip_) - clip->duration();
    if (snapped_start != position)
        position = snapped_start;
    else if (snapped_end != position && snapped_end >= 0)
        position = snapped_end;
    const int t = track_at(pos.y());
    std::string to_track = selected_track_;
    if (t >= 0 && from && seq.tracks[static_cast<size_t>(t)].kind == from->kind)
        to_track = seq.tracks[static_cast<size_t>(t)].id;
    if (position == clip->position && to_track == selected_track_) return;
    // Consecutive moves of one clip merge in the UndoStack: the whole drag is one undo step. A refused
    // move (overlap) changes nothing and the clip stays put, so the message is not shown mid-drag.
    auto moved = document_->push(core::make_move_clip(selected_track_, selected_clip_, to_track, position));
    if (moved && to_track != selected_track_) {
        selected_track_ = to_track;
        emit clipSelected(qs(selected_track_), qs(selected_clip_));
    }
}

void TimelineView::mouseReleaseEvent(QMouseEvent* event) {
    // One drag, one undo step: the engine merges the moves (or trims) of the drag, and this stops the
    // next drag of the same clip from joining them.
    if (drag_ == Drag::Clip || drag_ == Drag::TrimIn || drag_ == Drag::TrimOut) document_->end_gesture();
    drag_ = Drag::None;
    grabbed_.reset();
    QWidget::mouseReleaseEvent(event);
}

void TimelineView::wheelEvent(QWheelEvent* event) {
    if (event->modifiers() & Qt::ControlModifier) {
        event->angleDelta().y() > 0 ? zoomIn() : zoomOut();
        event->accept();
        return;
    }
    QWidget::wheelEvent(event);
}

void TimelineView::keyPressEvent(QKeyEvent* event) {
    const bool shift = event->modifiers() & Qt::ShiftModifier;
    switch (event->key()) {
        case Qt::Key_Delete:
        case Qt::Key_Backspace:
            if (selected()) shift ? rippleDeleteSelected() : deleteSelected();
            break;
        case Qt::Key_S:
            splitAtPlayhead();
            break;
        case Qt::Key_Plus:
        case Qt::Key_Equal:
            zoomIn();
            break;
        case Qt::Key_Minus:
            zoomOut();
            break;
        default:
            return QWidget::keyPressEvent(event);
    }
    event->accept();
}

void TimelineView::contextMenuEvent(QContextMenuEvent* event) {
    // Right-click selects the clip under the mouse first, as in any editor.
    const int t = track_at(event->pos().y());
    if (t >= 0) {
        const core::Track& track = document_->project().sequence.tracks[static_cast<size_t>(t)];
        for (auto c = track.clips.rbegin(); c != track.clips.rend(); ++c) {
            if (clipRect(track.id, c->id).contains(event->pos())) {
                selectClip(qs(track.id), qs(c->id));
                break;
            }
        }
    }
    const core::Clip* clip = selected();
    const core::Track* track = document_->project().sequence.find_track(selected_track_);
    QMenu menu(this);
    menu.addAction(tr("Split at playhead"), QKeySequence(Qt::Key_S), this, [this] { splitAtPlayhead(); });
    if (clip) {
        menu.addAction(tr("Crossfade with previous clip…"), this, [this] { promptCrossfade(); });
        if (clip->transition_in > 0)
            menu.addAction(tr("Remove crossfade"), this, [this] { setCrossfade(0); });
        menu.addAction(tr("Speed…"), this, [this] { promptSpeed(); });
        menu.addAction(tr("Fades…"), this, [this] { promptFades(); });
        if (track && track->kind == core::TrackKind::Audio)
            menu.addAction(tr("Gain…"), this, [this] { promptGain(); });
        menu.addSeparator();
        menu.addAction(tr("Delete"), QKeySequence(Qt::Key_Delete), this, [this] { deleteSelected(); });
        menu.addAction(tr("Ripple delete"), QKeySequence(Qt::SHIFT | Qt::Key_Delete), this,
                       [this] { rippleDeleteSelected(); });
    }
    menu.addSeparator();
    menu.addAction(tr("Add video track"), this, [this] { addVideoTrack(); });
    menu.addAction(tr("Add audio track"), this, [this] { addAudioTrack(); });
    menu.addAction(tr("Add music…"), this, [this] { promptAddMusic(); });
    menu.exec(event->globalPos());
}

}  // namespace fl::studio
