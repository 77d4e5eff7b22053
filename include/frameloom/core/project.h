#pragma once
/// Project → Sequence → Tracks → Clips, plus the storyboard of Shots.

#include <cstdint>
#include <string>
#include <vector>

#include "frameloom/core/result.h"
#include "frameloom/core/shot.h"
#include "frameloom/core/time.h"

namespace fl::core {

/// Where a clip's media comes from: a take of a shot (by ids) or a plain file.
struct ClipSource {
    std::string shot_id;  ///< set for generated media
    std::string take_id;  ///< set for generated media
    std::string file;     ///< path of the media (relative to the project when possible)

    bool operator==(const ClipSource&) const = default;
};

/// A piece of media placed on a track. Times are frames at the sequence rate.
///   source:  |----[in ======= out)----|
///   track:        [position, position + duration())      duration() = ceil((out - in) / speed)
/// Track frame k of the clip (0 <= k < duration()) shows source frame in + floor(k · speed).
///
/// Crossfades: a clip with transition_in = T > 0 starts T frames before the previous clip on its track
/// ends, and the T overlapping frames dissolve from the previous clip into this one:
///   V1: [ A ========|====)              A.end() = B.position + T
///                   [====|===== B ]     B.transition_in = T
///                   <-T->
/// The transition is "live" only while that overlap is exactly T; a clip moved away from its
/// neighbour keeps transition_in but is a plain cut (overlap 0). No other overlap is allowed.
struct Clip {
    std::string id;
    std::string name;
    ClipSource source;
    int64_t in = 0;        ///< first source frame used
    int64_t out = 0;       ///< one past the last source frame used (out > in)
    int64_t position = 0;  ///< first sequence frame the clip occupies
    Rational speed{1, 1};  ///< source frames per sequence frame (2 = twice as fast), 1/100 .. 100
    int64_t fade_in = 0;   ///< frames faded up from black (video) or silence (audio) at the start
    int64_t fade_out = 0;  ///< frames faded down to black / silence at the end
    double gain_db = 0.0;  ///< audio gain in dB (clips on audio tracks), -96 .. +24
    int64_t transition_in = 0;  ///< crossfade length with the previous clip (overlap, see above)

    /// Source frames the clip uses (out - in).
    int64_t source_duration() const { return out - in; }
    /// Frames the clip occupies on its track: ceil(source_duration() / speed).
    int64_t duration() const;
    int64_t end() const { return position + duration(); }
    /// The source frame shown at track frame `position + k` (nearest earlier frame: in + floor(k·speed)).
    int64_t source_frame_at(int64_t k) const;
    /// id set, 0 <= in < out, position >= 0, source names a take or a file, speed/fades/gain in range.
    Result<void> check_invariants() const;
    bool operator==(const Clip&) const = default;
};

/// Parses a clip speed: "2", "0.5", "1/3" (exact), range 1/100 .. 100; the error names the text.
Result<Rational> parse_speed(const std::string& text);

/// Kind of a track.
enum class TrackKind { Video, Audio };

/// A lane of clips that never overlap, kept sorted by position.
struct Track {
    std::string id;
    std::string name;
    TrackKind kind = TrackKind::Video;
    std::vector<Clip> clips;

    /// Index of the clip with this id, or -1.
    int index_of(const std::string& clip_id) const;
    /// True if [position, position+duration) overlaps no clip other than `ignore_id`.
    bool is_free(int64_t position, int64_t duration, const std::string& ignore_id = {}) const;
    /// End of the last clip (0 when empty).
    int64_t end() const;
    /// Frames clip `i` overlaps its predecessor (its live crossfade), 0 for the first clip or a cut.
    int64_t overlap_before(size_t i) const;
    /// id set, clips valid, sorted by position, non-overlapping except for live crossfades (which leave
    /// each clip a part of its own), with unique ids.
    Result<void> check_invariants() const;
    bool operator==(const Track&) const = default;
};

/// The edit: a frame rate, a picture size and tracks.
struct Sequence {
    std::string name = "Sequence 1";
    FrameRate fps{8, 1};
    int width = 64;
    int height = 64;
    std::vector<Track> tracks;

    int64_t duration() const;  ///< end of the latest clip on any track, in frames
    Track* find_track(const std::string& track_id);
    const Track* find_track(const std::string& track_id) const;
    /// The first video track (where generated takes are appended), or nullptr.
    Track* first_video_track();
    const Track* first_video_track() const;
    /// Positive rate and size, tracks valid with unique ids.
    Result<void> check_invariants() const;
    bool operator==(const Sequence&) const = default;
};

/// The number after an id's last '-' ("clip-12" → 12): -1 when there is none, INT64_MAX when it overflows.
/// Project::next_id stays above every such number, so fresh ids never collide.
int64_t id_number(const std::string& id);

/// A generation job that had not finished when the project was saved (queued or running). The file keeps
/// it so the studio can queue it again when the project is opened ("queued_generations", optional).
struct QueuedGeneration {
    std::string shot_id;      ///< the shot whose take it makes
    std::string title;        ///< the job's title in the jobs panel, e.g. "Generate Opening"
    GenerationParams params;  ///< exactly what to generate (seed resolved); paths like the shot's
    bool to_timeline = true;  ///< the take goes on the timeline (a plain Generate) or only joins the shot
    bool correct_extension = true;  ///< with conditioning.extend: colour-correct the continuation

    /// shot_id set, params structurally valid.
    Result<void> check_invariants() const;
    bool operator==(const QueuedGeneration&) const = default;
};

/// A Frameloom project: storyboard (shots) and one sequence.
struct Project {
    static constexpr int kSchemaVersion = 1;

    std::string name = "Untitled";
    std::vector<Shot> shots;
    Sequence sequence;
    int64_t next_id = 1;  ///< counter for fresh ids ("shot-7", "clip-8", ...)
    /// Generation jobs unfinished at save time, oldest first (empty in most files). Not part of the edit
    /// history: the studio fills it when saving and empties it when it queues them again on open.
    std::vector<QueuedGeneration> queued_generations;

    /// A new project with one video track, ready to use.
    static Project make_new(const std::string& name = "Untitled");

    /// Returns "<prefix>-<n>" with a fresh n and advances the counter.
    std::string fresh_id(const std::string& prefix);

    Shot* find_shot(const std::string& shot_id);
    const Shot* find_shot(const std::string& shot_id) const;
    int shot_index(const std::string& shot_id) const;

    /// Ids unique, clips sorted and non-overlapping, clip sources resolvable, selected takes exist.
    Result<void> check_invariants() const;
    bool operator==(const Project&) const = default;
};

}  // namespace fl::core
