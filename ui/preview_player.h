#pragma once
/// The preview: plays a take or the timeline sequence by decoding with fl::media::VideoReader.

#include <QImage>
#include <QWidget>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "frameloom/core/project.h"
#include "frameloom/core/time.h"
#include "frameloom/media/decode.h"
#include "frameloom/media/render.h"

class QLabel;
class QPushButton;
class QSlider;
class QTimer;

namespace fl::studio {

class FrameCanvas;

/// Centre panel: picture, play/pause, scrub slider and timecode. The sequence is composited by
/// media::SequenceFrames, so speed, fades, crossfades and track order look as they will in the export.
/// Pictures only: there is no audio playback (the studio does not link Qt Multimedia).
class PreviewPlayer : public QWidget {
    Q_OBJECT
public:
    explicit PreviewPlayer(QWidget* parent = nullptr);
    ~PreviewPlayer() override;

    /// Shows one media file (a take) from its first frame.
    void showFile(const std::filesystem::path& path);
    /// Shows the sequence of `project`, resolving clip media with `resolve`; keeps the current frame.
    void showSequence(const core::Project& project, const std::filesystem::path& project_dir);
    /// Forgets decoders (after a project was replaced) and shows nothing.
    void clear();

    bool isPlaying() const;
    /// Playback direction and rate: 1 = forward at the sequence rate, -2 = backwards twice as fast.
    int playRate() const { return play_rate_; }
    bool isSequence() const { return mode_ == Mode::Sequence; }
    int64_t frame() const { return frame_; }
    int64_t frameCount() const { return frame_count_; }
    /// The picture on screen (null when nothing is shown).
    const QImage& image() const { return image_; }
    /// The timecode text, e.g. "00:00:01:03 / 00:00:02:00".
    QString timecodeText() const;

public slots:
    void play();
    void pause();
    void togglePlay();
    /// L: plays forward (again: faster, up to 4x). J: plays backwards (again: faster). K: stops.
    void playForward();
    void playReverse();
    void stop();
    /// Left/Right: one frame back/forward (pauses).
    void stepBack();
    void stepForward();
    /// Shows frame `index` (clamped).
    void seek(qint64 index);

signals:
    /// The shown frame changed (sequence mode: the timeline's playhead follows it).
    void frameChanged(qint64 frame);

private:
    enum class Mode { None, File, Sequence };

    void tick();
    void render();
    void update_controls();
    /// Decodes frame `index` (in the file's own frames) of `file`; sets error_ on failure.
    QImage decode(const std::filesystem::path& file, int64_t index);
    media::VideoReader* reader_for(const std::filesystem::path& file);

    Mode mode_ = Mode::None;
    std::filesystem::path file_;
    std::unique_ptr<media::SequenceFrames> sequence_;
    int play_rate_ = 1;
    void start_timer();
    core::FrameRate rate_{8, 1};
    int64_t frame_ = 0;
    int64_t frame_count_ = 0;
    QImage image_;
    QString error_;
    std::map<std::string, std::unique_ptr<media::VideoReader>> readers_;
    std::map<std::string, QString> reader_errors_;

    FrameCanvas* canvas_ = nullptr;
    QPushButton* play_ = nullptr;
    QSlider* slider_ = nullptr;
    QLabel* timecode_ = nullptr;
    QTimer* timer_ = nullptr;
};

}  // namespace fl::studio
