#pragma once
/// The preview: plays a take or the timeline sequence by decoding with fl::media::VideoReader.

#include <QElapsedTimer>
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

class QAudioSink;
class QIODevice;
class QLabel;
class QPushButton;
class QSlider;
class QTimer;

namespace fl::studio {

class FrameCanvas;

/// Centre panel: picture, play/pause, scrub slider and timecode. The sequence is composited by
/// media::SequenceFrames, so speed, fades, crossfades and track order look as they will in the export.
///
/// Sound: while the sequence plays forward at 1x, its audio tracks are mixed by media::SequenceAudio (the
/// export's own mixing code) and played through a QAudioSink; J, reverse, 2x/4x, stepping and scrubbing
/// are silent, and so are takes. The picture clock is authoritative: the frame shown is the play start
/// plus the time elapsed since (frames are skipped rather than fall behind); the sound follows it, and when
/// the sample being heard (the sink's processedUSecs) is more than kAudioSyncMs off the picture, samples
/// are skipped (sound late) or silence inserted (sound early). Without an audio device pictures play
/// silently; that is logged once, never shown as an error.
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
    /// True while sequence audio is being played through an audio device.
    bool audioPlaying() const { return sink_io_ != nullptr; }
    /// Why the last play had no sound ("" when it had, or had nothing to play), e.g. "no audio output
    /// device"; for tests and the log, never shown as an error.
    const QString& audioUnavailable() const { return audio_unavailable_; }
    /// Sequence samples (per channel) mixed for playback since the player was made.
    int64_t audioSamplesMixed() const { return audio_samples_mixed_; }

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
    /// (Re)starts the picture clock at the current frame.
    void restart_clock();
    /// Starts sequence audio at the current frame when playing forward at 1x and there is audio to play.
    void start_audio();
    /// Fills the sink with mixed audio, first moving the sound back to the picture if it drifted.
    void feed_audio();
    /// The picture clock's position in samples of the audio mix.
    int64_t picture_sample() const;
    void stop_audio();
    void render();
    void update_controls();
    /// Decodes frame `index` (in the file's own frames) of `file`; sets error_ on failure.
    QImage decode(const std::filesystem::path& file, int64_t index);
    media::VideoReader* reader_for(const std::filesystem::path& file);

    Mode mode_ = Mode::None;
    std::filesystem::path file_;
    std::unique_ptr<media::SequenceFrames> sequence_;
    core::Project sequence_project_;  ///< the sequence shown, for its audio mix
    std::filesystem::path sequence_dir_;
    std::unique_ptr<media::SequenceAudio> audio_mix_;  ///< made on first play after each showSequence
    QAudioSink* sink_ = nullptr;
    QIODevice* sink_io_ = nullptr;  ///< non-null while sound plays
    int64_t audio_start_ = 0;       ///< sequence sample the sink started at
    int64_t audio_cursor_ = 0;      ///< next sequence sample to write
    int64_t audio_shift_ = 0;       ///< samples skipped (+) or silence inserted (−) to follow the picture
    int64_t audio_samples_mixed_ = 0;
    QString audio_unavailable_;
    bool audio_logged_ = false;
    bool audio_wanted_ = false;  ///< playing forward at 1x: sound should play (again after a seek)
    QElapsedTimer clock_;        ///< the picture clock, from play_start_frame_
    int64_t play_start_frame_ = 0;
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
