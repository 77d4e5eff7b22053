#include "ui/preview_player.h"

#include <QAudioDevice>
#include <QAudioFormat>
#include <QAudioSink>
#include <QByteArray>
#include <QHBoxLayout>
#include <QLabel>
#include <QMediaDevices>
#include <QPainter>
#include <QPushButton>
#include <QShortcut>
#include <QSignalBlocker>
#include <QSlider>
#include <QStyle>
#include <QTimer>
#include <QVBoxLayout>
#include <QtGlobal>
#include <algorithm>
#include <cmath>

namespace fl::studio {

namespace fs = std::filesystem;

namespace {
/// Sample rate of the preview's sound (the export's default).
constexpr int kAudioRate = 48000;
/// The sink's buffer: it rides out a slow frame, and is short enough that pausing silences at once.
constexpr int kAudioBufferMs = 200;
/// The sound is moved back to the picture (samples skipped or silence inserted) when it is further off.
constexpr int kAudioSyncMs = 60;
/// After a seek while playing, sound resumes once the picture has played this long without another.
constexpr int kScrubQuietMs = 300;
}  // namespace

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

PreviewPlayer::~PreviewPlayer() { stop_audio(); }

void PreviewPlayer::clear() {
    pause();
    mode_ = Mode::None;
    sequence_.reset();
    audio_mix_.reset();
    sequence_project_ = core::Project{};
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
    sequence_project_ = project;
    sequence_dir_ = project_dir;
    // The mix is made again when sound next starts; sound already playing goes on with the edited mix.
    audio_mix_.reset();
    if (sink_io_)
        audio_mix_ = std::make_unique<media::SequenceAudio>(sequence_project_, sequence_dir_, kAudioRate);
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
    restart_clock();
    // Twice a frame: the clock decides the frame, the timer only looks at it.
    timer_->start(std::max(1, static_cast<int>(500.0 / fps + 0.5)));
    audio_wanted_ = mode_ == Mode::Sequence && play_rate_ == 1;
    audio_unavailable_.clear();
    if (audio_wanted_)
        start_audio();
    else
        stop_audio();
    update_controls();
}

void PreviewPlayer::restart_clock() {
    play_start_frame_ = frame_;
    clock_.start();
}

void PreviewPlayer::start_audio() {
    stop_audio();
    if (!audio_wanted_) return;
    if (!audio_mix_)
        audio_mix_ = std::make_unique<media::SequenceAudio>(sequence_project_, sequence_dir_, kAudioRate);
    if (!audio_mix_->has_audio()) {
        audio_wanted_ = false;  // nothing to hear: do not look again until the next play
        return;
    }
    const auto unavailable = [this](const QString& why) {
        audio_wanted_ = false;
        audio_unavailable_ = why;
        if (!audio_logged_) qInfo("preview: %s; the sequence plays without sound", qUtf8Printable(why));
        audio_logged_ = true;
    };
    const QAudioDevice device = QMediaDevices::defaultAudioOutput();
    if (device.isNull()) return unavailable(tr("no audio output device"));
    QAudioFormat format;
    format.setSampleRate(kAudioRate);
    format.setChannelCount(2);
    format.setSampleFormat(QAudioFormat::Int16);
    if (!device.isFormatSupported(format))
        return unavailable(tr("the audio device %1 does not take 48 kHz stereo").arg(device.description()));
    sink_ = new QAudioSink(device, format, this);
    sink_->setBufferSize(kAudioRate * 4 * kAudioBufferMs / 1000);  // 4 bytes a stereo Int16 sample
    sink_io_ = sink_->start();
    if (!sink_io_ || sink_->error() != QAudio::NoError) {
        stop_audio();
        return unavailable(tr("the audio output could not be opened"));
    }
    audio_start_ = picture_sample();
    audio_cursor_ = audio_start_;
    audio_shift_ = 0;
    feed_audio();
}

int64_t PreviewPlayer::picture_sample() const {
    return audio_mix_->sample_of_frame(play_start_frame_) + clock_.elapsed() * kAudioRate / 1000;
}

void PreviewPlayer::feed_audio() {
    if (!sink_io_ || !audio_mix_) return;
    // The sample being heard: where the sink started, what it has played (processedUSecs), and the
    // corrections so far. Sound that drifted from the picture is moved back: skipped ahead when late (the
    // device was slow to start, or the GUI stalled), silence inserted when early.
    const int64_t picture = picture_sample();
    const int64_t heard = audio_start_ + sink_->processedUSecs() * kAudioRate / 1000000 + audio_shift_;
    const int64_t drift = picture - heard;  // > 0: the sound is late
    const int64_t tolerance = int64_t{kAudioRate} * kAudioSyncMs / 1000;
    int64_t room = static_cast<int64_t>(sink_->bytesFree()) / 4;
    if (drift > tolerance) {
        audio_cursor_ += drift;
        audio_shift_ += drift;
    } else if (-drift > tolerance && room > 0) {
        const int64_t pad = std::min(-drift, room);
        sink_io_->write(QByteArray(static_cast<qsizetype>(pad * 4), '\0'));
        audio_shift_ -= pad;
        room -= pad;
    }
    const int64_t end = std::min(audio_cursor_ + room, audio_mix_->sample_count());
    if (end <= audio_cursor_) return;
    auto mixed = audio_mix_->mix(audio_cursor_, end);
    if (!mixed) {
        // A clip whose audio cannot be read: the picture shows its own "media offline"; go on silently.
        stop_audio();
        audio_wanted_ = false;
        audio_unavailable_ = QString::fromStdString(mixed.message());
        if (!audio_logged_)
            qInfo("preview: %s; the sequence plays without sound", qUtf8Printable(audio_unavailable_));
        audio_logged_ = true;
        return;
    }
    QByteArray bytes(static_cast<qsizetype>(mixed->samples.size() * sizeof(qint16)), Qt::Uninitialized);
    auto* out = reinterpret_cast<qint16*>(bytes.data());
    for (size_t i = 0; i < mixed->samples.size(); ++i)
        out[i] = static_cast<qint16>(std::lround(std::clamp(mixed->samples[i], -1.0f, 1.0f) * 32767.0f));
    sink_io_->write(bytes);
    audio_samples_mixed_ += end - audio_cursor_;
    audio_cursor_ = end;
}

void PreviewPlayer::stop_audio() {
    if (!sink_) return;
    sink_->stop();
    delete sink_;
    sink_ = nullptr;
    sink_io_ = nullptr;
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
    audio_wanted_ = false;
    stop_audio();
    play_rate_ = 1;
    update_controls();
}

void PreviewPlayer::togglePlay() { isPlaying() ? pause() : play(); }

void PreviewPlayer::seek(qint64 index) {
    const int64_t clamped = std::clamp<int64_t>(index, 0, std::max<int64_t>(frame_count_ - 1, 0));
    if (clamped == frame_ && !image_.isNull()) return;
    frame_ = clamped;
    if (isPlaying()) {
        // Playing on from here; scrubbing is silent until the picture has run on for a moment.
        restart_clock();
        stop_audio();
    }
    render();
}

void PreviewPlayer::tick() {
    const double fps = rate_.to_double() > 0 ? rate_.to_double() : 8.0;
    const auto advanced =
        static_cast<int64_t>(static_cast<double>(clock_.elapsed()) * fps * std::abs(play_rate_) / 1000.0);
    const int64_t target = play_start_frame_ + (play_rate_ < 0 ? -advanced : advanced);
    if (target < 0 || target >= frame_count_) {
        const int64_t end = play_rate_ < 0 ? 0 : std::max<int64_t>(frame_count_ - 1, 0);
        if (frame_ != end) {
            frame_ = end;
            render();
        }
        pause();
        return;
    }
    if (target != frame_) {
        frame_ = target;
        render();
    }
    if (sink_io_)
        feed_audio();
    else if (audio_wanted_ && clock_.elapsed() >= kScrubQuietMs)
        start_audio();
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
