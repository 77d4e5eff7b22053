#include "ui/preview_player.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPainter>
#include <QPushButton>
#include <QShortcut>
#include <QSignalBlocker>
#include <QSlider>
#include <QStyle>
#include <QTimer>
#include <QVBoxLayout>
#include <algorithm>

namespace fl::studio {

namespace fs = std::filesystem;

/// Paints the current picture scaled to fit, letterboxed, or a one-line message.
class FrameCanvas : public QWidget {
public:
    explicit FrameCanvas(QWidget* parent) : QWidget(parent) {
        setObjectName("previewCanvas");
        setMinimumSize(160, 90);
        setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
    }
    void set(const QImage& image, const QString& message) {
        image_ = image;
        message_ = message;
        update();
    }

protected:
    void paintEvent(QPaintEvent*) override {
        QPainter p(this);
        p.fillRect(rect(), Qt::black);
        if (!image_.isNull()) {
            QSize fitted = image_.size().scaled(size(), Qt::KeepAspectRatio);
            QRect target(QPoint((width() - fitted.width()) / 2, (height() - fitted.height()) / 2), fitted);
            // Tiny previews (64x64) read better with hard pixels; shrinking needs filtering.
            p.setRenderHint(QPainter::SmoothPixmapTransform, fitted.width() < image_.width());
            p.drawImage(target, image_);
        }
        if (!message_.isEmpty()) {
            p.setPen(Qt::lightGray);
            p.drawText(rect().adjusted(8, 8, -8, -8), Qt::AlignCenter | Qt::TextWordWrap, message_);
        }
    }

private:
    QImage image_;
    QString message_;
};

PreviewPlayer::PreviewPlayer(QWidget* parent) : QWidget(parent) {
    setObjectName("previewPlayer");
    canvas_ = new FrameCanvas(this);
    play_ = new QPushButton(this);
    play_->setObjectName("playPause");
    play_->setIcon(style()->standardIcon(QStyle::SP_MediaPlay));
    play_->setToolTip(tr("Play/Pause (Space)"));
    slider_ = new QSlider(Qt::Horizontal, this);
    slider_->setObjectName("scrub");
    slider_->setRange(0, 0);
    timecode_ = new QLabel(this);
    timecode_->setObjectName("timecode");
    timecode_->setFont(QFont("monospace"));
    timer_ = new QTimer(this);
    timer_->setTimerType(Qt::PreciseTimer);

    auto* controls = new QHBoxLayout;
    controls->addWidget(play_);
    controls->addWidget(slider_, 1);
    controls->addWidget(timecode_);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(canvas_, 1);
    layout->addLayout(controls);

    connect(play_, &QPushButton::clicked, this, &PreviewPlayer::togglePlay);
    // Space plays/pauses while the preview has focus (elsewhere it types into the prompt).
    canvas_->setFocusPolicy(Qt::ClickFocus);
    new QShortcut(QKeySequence(Qt::Key_Space), this, this, &PreviewPlayer::togglePlay,
                  Qt::WidgetWithChildrenShortcut);
    // Editors' transport keys: J/K/L shuttle, arrows step one frame.
    const std::pair<int, void (PreviewPlayer::*)()> keys[] = {
        {Qt::Key_J, &PreviewPlayer::playReverse}, {Qt::Key_K, &PreviewPlayer::stop},
        {Qt::Key_L, &PreviewPlayer::playForward}, {Qt::Key_Left, &PreviewPlayer::stepBack},
        {Qt::Key_Right, &PreviewPlayer::stepForward}};
    for (const auto& [key, slot] : keys)
        new QShortcut(QKeySequence(key), this, this, slot, Qt::WidgetWithChildrenShortcut);
    connect(slider_, &QSlider::valueChanged, this, [this](int v) { seek(v); });
    connect(timer_, &QTimer::timeout, this, &PreviewPlayer::tick);
    update_controls();
}

PreviewPlayer::~PreviewPlayer() = default;

void PreviewPlayer::clear() {
    pause();
    mode_ = Mode::None;
    sequence_.reset();
    readers_.clear();
    reader_errors_.clear();
    frame_ = 0;
    frame_count_ = 0;
    image_ = QImage();
    error_.clear();
    canvas_->set(image_, QString());
    update_controls();
}

void PreviewPlayer::showFile(const fs::path& path) {
    pause();
    mode_ = Mode::File;
    file_ = path;
    sequence_.reset();
    frame_ = 0;
    frame_count_ = 0;
    rate_ = core::FrameRate{8, 1};
    if (media::VideoReader* reader = reader_for(path)) {
        frame_count_ = std::max<int64_t>(reader->info().frame_count, 1);
        if (reader->info().fps.num > 0) rate_ = reader->info().fps;
    }
    render();
}

void PreviewPlayer::showSequence(const core::Project& project, const fs::path& project_dir) {
    const bool was_sequence = mode_ == Mode::Sequence;
    if (!was_sequence) pause();
    mode_ = Mode::Sequence;
    rate_ = project.sequence.fps;
    // A fresh compositor per edit: it holds a copy of the project, so it never sees a half-made change.
    sequence_ = std::make_unique<media::SequenceFrames>(project, project_dir);
    frame_count_ = project.sequence.duration();
    if (!was_sequence) frame_ = 0;
    frame_ = std::clamp<int64_t>(frame_, 0, std::max<int64_t>(frame_count_ - 1, 0));
    render();
}

bool PreviewPlayer::isPlaying() const { return timer_->isActive(); }

void PreviewPlayer::play() {
    if (mode_ == Mode::None || frame_count_ <= 1) return;
    play_rate_ = 1;
    if (frame_ >= frame_count_ - 1) seek(0);
    start_timer();
}

void PreviewPlayer::start_timer() {
    const double fps = (rate_.to_double() > 0 ? rate_.to_double() : 8.0) * std::abs(play_rate_);
    timer_->start(std::max(1, static_cast<int>(1000.0 / fps + 0.5)));
    update_controls();
}

void PreviewPlayer::playForward() {
    if (mode_ == Mode::None || frame_count_ <= 1) return;
    play_rate_ = (isPlaying() && play_rate_ > 0) ? std::min(play_rate_ * 2, 4) : 1;
    if (frame_ >= frame_count_ - 1) seek(0);
    start_timer();
}

void PreviewPlayer::playReverse() {
    if (mode_ == Mode::None || frame_count_ <= 1) return;
    play_rate_ = (isPlaying() && play_rate_ < 0) ? std::max(play_rate_ * 2, -4) : -1;
    if (frame_ <= 0) seek(frame_count_ - 1);
    start_timer();
}

void PreviewPlayer::stop() { pause(); }

void PreviewPlayer::stepBack() {
    pause();
    seek(frame_ - 1);
}

void PreviewPlayer::stepForward() {
    pause();
    seek(frame_ + 1);
}

void PreviewPlayer::pause() {
    timer_->stop();
    play_rate_ = 1;
    update_controls();
}

void PreviewPlayer::togglePlay() { isPlaying() ? pause() : play(); }

void PreviewPlayer::seek(qint64 index) {
    const int64_t clamped = std::clamp<int64_t>(index, 0, std::max<int64_t>(frame_count_ - 1, 0));
    if (clamped == frame_ && !image_.isNull()) return;
    frame_ = clamped;
    render();
}

void PreviewPlayer::tick() {
    const int64_t next = frame_ + (play_rate_ < 0 ? -1 : 1);
    if (next < 0 || next >= frame_count_) {
        pause();
        return;
    }
    frame_ = next;
    render();
}

media::VideoReader* PreviewPlayer::reader_for(const fs::path& file) {
    const std::string key = file.string();
    auto it = readers_.find(key);
    if (it != readers_.end()) return it->second.get();
    if (reader_errors_.count(key)) return nullptr;
    auto opened = media::VideoReader::open(file);
    if (!opened) {
        reader_errors_[key] = QString::fromStdString(opened.message());
        return nullptr;
    }
    return readers_.emplace(key, std::move(opened).value()).first->second.get();
}

QImage PreviewPlayer::decode(const fs::path& file, int64_t index) {
    media::VideoReader* reader = reader_for(file);
    if (!reader) {
        error_ = tr("media offline: %1").arg(reader_errors_[file.string()]);
        return {};
    }
    const int64_t last = reader->info().frame_count > 0 ? reader->info().frame_count - 1 : index;
    index = std::clamp<int64_t>(index, 0, std::max<int64_t>(last, 0));
    if (reader->position() != index) {
        auto sought = reader->seek(index);
        if (!sought) {
            error_ = QString::fromStdString(sought.message());
            return {};
        }
    }
    auto frame = reader->read_next();
    if (!frame) {
        error_ = QString::fromStdString(frame.message());
        return {};
    }
    QImage image(frame->rgb.data(), frame->width, frame->height, frame->width * 3, QImage::Format_RGB888);
    return image.copy();  // the Frame's buffer dies with this scope
}

void PreviewPlayer::render() {
    error_.clear();
    image_ = QImage();
    if (mode_ == Mode::File) {
        image_ = decode(file_, frame_);
    } else if (mode_ == Mode::Sequence) {
        if (sequence_ && frame_count_ > 0) {
            auto frame = sequence_->frame(frame_);
            if (frame) {
                image_ = QImage(frame->rgb.data(), frame->width, frame->height, frame->width * 3,
                                QImage::Format_RGB888)
                             .copy();  // the Frame's buffer dies with this scope
            } else {
                error_ = tr("media offline: %1").arg(QString::fromStdString(frame.message()));
            }
        }
    }
    QString message = error_;
    if (mode_ == Mode::Sequence && frame_count_ == 0) message = tr("The timeline is empty: generate a shot");
    canvas_->set(image_, message);
    update_controls();
    emit frameChanged(frame_);
}

QString PreviewPlayer::timecodeText() const {
    const core::FrameTime now{frame_, rate_};
    const core::FrameTime total{frame_count_, rate_};
    return QStringLiteral("%1 / %2").arg(QString::fromStdString(now.timecode()),
                                         QString::fromStdString(total.timecode()));
}

void PreviewPlayer::update_controls() {
    {
        QSignalBlocker block(slider_);
        slider_->setRange(0, static_cast<int>(std::max<int64_t>(frame_count_ - 1, 0)));
        slider_->setValue(static_cast<int>(frame_));
    }
    slider_->setEnabled(mode_ != Mode::None && frame_count_ > 1);
    play_->setEnabled(mode_ != Mode::None && frame_count_ > 1);
    play_->setIcon(style()->standardIcon(isPlaying() ? QStyle::SP_MediaPause : QStyle::SP_MediaPlay));
    timecode_->setText(mode_ == Mode::None ? QString() : timecodeText());
}

}  // namespace fl::studio
