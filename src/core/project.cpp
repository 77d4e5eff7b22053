#include "frameloom/core/project.h"

#include <algorithm>
#include <cstdint>
#include <charconv>
#include <cmath>
#include <set>

namespace fl::core {

namespace {
/// 128-bit intermediate for frame × speed products (GCC/Clang extension, no -Wpedantic noise).
__extension__ typedef __int128 Wide;
}  // namespace

int64_t id_number(const std::string& id) {
    const auto dash = id.rfind('-');
    if (dash == std::string::npos || dash + 1 >= id.size()) return -1;
    const char* first = id.data() + dash + 1;
    const char* last = id.data() + id.size();
    if (!std::all_of(first, last, [](char c) { return c >= '0' && c <= '9'; })) return -1;
    int64_t value = 0;
    const auto [ptr, ec] = std::from_chars(first, last, value);
    if (ec == std::errc::result_out_of_range) return INT64_MAX;
    if (ec != std::errc() || ptr != last) return -1;
    return value;
}

// ---- Clip ----

namespace {

/// floor(a / b) for b > 0, in 128 bits so in/out up to INT64_MAX/4 times a speed term cannot overflow.
int64_t floor_div(Wide a, Wide b) {
    Wide q = a / b;
    if ((a % b != 0) && (a < 0)) --q;
    return static_cast<int64_t>(q);
}

bool speed_in_range(const Rational& s) {
    // 1/100 <= num/den <= 100, compared exactly.
    return s.num > 0 && s.den > 0 && static_cast<Wide>(s.num) * 100 >= s.den &&
           static_cast<Wide>(s.num) <= static_cast<Wide>(s.den) * 100;
}

}  // namespace

Result<Rational> parse_speed(const std::string& text) {
    const std::string what = "speed '" + text + "' is not valid: use a positive number such as 2, 0.5 or 1/3 "
                             "(between 1/100 and 100)";
    if (text.empty()) return fail(what);
    Rational r;
    const auto slash = text.find('/');
    const auto parse_int = [](const std::string& t, int64_t& v) {
        if (t.empty() || !std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return false;
        const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
        return ec == std::errc() && ptr == t.data() + t.size() && v <= 1000000;
    };
    if (slash != std::string::npos) {
        int64_t num = 0, den = 0;
        if (!parse_int(text.substr(0, slash), num) || !parse_int(text.substr(slash + 1), den) || den == 0)
            return fail(what);
        r = Rational::make(num, den);
    } else {
        // Decimal: exact as a fraction over a power of ten ("0.25" → 1/4).
        const auto dot = text.find('.');
        const std::string whole = text.substr(0, dot);
        const std::string frac = dot == std::string::npos ? std::string() : text.substr(dot + 1);
        if (frac.size() > 6) return fail(what);
        int64_t w = 0, f = 0;
        if (!whole.empty() && !parse_int(whole, w)) return fail(what);
        if (!frac.empty() && !parse_int(frac, f)) return fail(what);
        if (whole.empty() && frac.empty()) return fail(what);
        int64_t scale = 1;
        for (size_t i = 0; i < frac.size(); ++i) scale *= 10;
        r = Rational::make(w * scale + f, scale);
    }
    if (!speed_in_range(r)) return fail(what);
    return r;
}

int64_t Clip::duration() const {
    // ceil((out - in) · den / num)
    const Wide a = static_cast<Wide>(out - in) * speed.den;
    if (speed.num <= 0) return out - in;  // invalid speed: check_invariants reports it
    return -floor_div(-a, speed.num);
}

int64_t Clip::source_frame_at(int64_t k) const {
    if (speed.den <= 0) return in + k;
    return in + floor_div(static_cast<Wide>(k) * speed.num, speed.den);
}

Result<void> Clip::check_invariants() const {
    if (id.empty()) return fail("a clip has an empty id");
    if (in < 0) return fail("clip " + id + " starts before its source (in = " + std::to_string(in) + ")");
    if (out <= in)
        return fail("clip " + id + " is empty or reversed (in = " + std::to_string(in) +
                    ", out = " + std::to_string(out) + "; out must be greater than in)");
    if (position < 0)
        return fail("clip " + id + " is placed before the start (position = " + std::to_string(position) +
                    ")");
    if (source.take_id.empty() != source.shot_id.empty())
        return fail("clip " + id + " names a " + (source.shot_id.empty() ? "take" : "shot") + " without a " +
                    (source.shot_id.empty() ? "shot" : "take"));
    if (source.shot_id.empty() && source.file.empty())
        return fail("clip " + id + " has no source (no take and no file)");
    if (!speed_in_range(speed))
        return fail("clip " + id + " has speed " + to_string(speed) + " (must be between 1/100 and 100)");
    const int64_t d = duration();
    if (fade_in < 0 || fade_out < 0)
        return fail("clip " + id + " has a negative fade (in " + std::to_string(fade_in) + ", out " +
                    std::to_string(fade_out) + ")");
    if (fade_in > d || fade_out > d || fade_in + fade_out > d)
        return fail("clip " + id + ": fades of " + std::to_string(fade_in) + " + " + std::to_string(fade_out) +
                    " frames do not fit in its " + std::to_string(d) + " frames");
    if (!std::isfinite(gain_db) || gain_db < -96.0 || gain_db > 24.0)
        return fail("clip " + id + " has gain " + std::to_string(gain_db) + " dB (must be between -96 and +24)");
    if (transition_in < 0 || transition_in > d)
        return fail("clip " + id + " has a transition of " + std::to_string(transition_in) +
                    " frames (must be between 0 and its length, " + std::to_string(d) + ")");
    return ok();
}

// ---- Track ----

int Track::index_of(const std::string& clip_id) const {
    for (size_t i = 0; i < clips.size(); ++i)
        if (clips[i].id == clip_id) return static_cast<int>(i);
    return -1;
}

bool Track::is_free(int64_t position, int64_t duration, const std::string& ignore_id) const {
    const int64_t end = position + duration;
    for (const Clip& c : clips) {
        if (!ignore_id.empty() && c.id == ignore_id) continue;
        if (position < c.end() && c.position < end) return false;
    }
    return true;
}

int64_t Track::end() const {
    int64_t e = 0;
    for (const Clip& c : clips) e = std::max(e, c.end());
    return e;
}

int64_t Track::overlap_before(size_t i) const {
    if (i == 0 || i >= clips.size()) return 0;
    const int64_t overlap = clips[i - 1].end() - clips[i].position;
    return overlap > 0 && overlap == clips[i].transition_in ? overlap : 0;
}

Result<void> Track::check_invariants() const {
    if (id.empty()) return fail("a track has an empty id");
    std::set<std::string> ids;
    for (size_t i = 0; i < clips.size(); ++i) {
        const Clip& c = clips[i];
        FL_TRY(c.check_invariants());
        if (!ids.insert(c.id).second) return fail("track " + id + " has two clips with id " + c.id);
        if (i > 0) {
            const Clip& prev = clips[i - 1];
            if (c.position < prev.position)
                return fail("track " + id + " is not sorted: clip " + c.id + " comes after " + prev.id +
                            " but starts earlier");
            // Overlap is allowed only as a live crossfade: exactly transition_in frames.
            const int64_t overlap = prev.end() - c.position;
            if (overlap > 0 && overlap != c.transition_in)
                return fail("track " + id + ": clip " + c.id + " (from frame " + std::to_string(c.position) +
                            ") overlaps clip " + prev.id + " (until frame " + std::to_string(prev.end()) +
                            ")" +
                            (c.transition_in > 0
                                 ? " by " + std::to_string(overlap) + " frames, but its crossfade is " +
                                       std::to_string(c.transition_in)
                                 : std::string()));
            // Each clip keeps a part of its own: a crossfade never reaches into the one before it.
            if (overlap > 0 && c.position < prev.position + overlap_before(i - 1))
                return fail("track " + id + ": the crossfades into " + prev.id + " and into " + c.id +
                            " overlap (" + prev.id + " is too short for both)");
            if (overlap > 0 && c.end() <= prev.end())
                return fail("track " + id + ": clip " + c.id + " ends inside " + prev.id);
        }
    }
    return ok();
}

// ---- Sequence ----

int64_t Sequence::duration() const {
    int64_t d = 0;
    for (const Track& t : tracks) d = std::max(d, t.end());
    return d;
}

Track* Sequence::find_track(const std::string& track_id) {
    for (Track& t : tracks)
        if (t.id == track_id) return &t;
    return nullptr;
}

const Track* Sequence::find_track(const std::string& track_id) const {
    for (const Track& t : tracks)
        if (t.id == track_id) return &t;
    return nullptr;
}

Track* Sequence::first_video_track() {
    for (Track& t : tracks)
        if (t.kind == TrackKind::Video) return &t;
    return nullptr;
}

const Track* Sequence::first_video_track() const {
    for (const Track& t : tracks)
        if (t.kind == TrackKind::Video) return &t;
    return nullptr;
}

Result<void> Sequence::check_invariants() const {
    if (fps.num <= 0 || fps.den <= 0)
        return fail("sequence frame rate must be positive (got " + to_string(fps) + ")");
    if (width <= 0 || height <= 0)
        return fail("sequence size " + std::to_string(width) + "x" + std::to_string(height) +
                    " must be positive");
    std::set<std::string> ids;
    for (const Track& t : tracks) {
        FL_TRY(t.check_invariants());
        if (!ids.insert(t.id).second) return fail("two tracks have id " + t.id);
    }
    return ok();
}

// ---- Project ----

Project Project::make_new(const std::string& name) {
    Project p;
    p.name = name;
    Track video;
    video.id = p.fresh_id("track");
    video.name = "V1";
    video.kind = TrackKind::Video;
    p.sequence.tracks.push_back(std::move(video));
    return p;
}

std::string Project::fresh_id(const std::string& prefix) { return prefix + "-" + std::to_string(next_id++); }

Shot* Project::find_shot(const std::string& shot_id) {
    for (Shot& s : shots)
        if (s.id == shot_id) return &s;
    return nullptr;
}

const Shot* Project::find_shot(const std::string& shot_id) const {
    for (const Shot& s : shots)
        if (s.id == shot_id) return &s;
    return nullptr;
}

int Project::shot_index(const std::string& shot_id) const {
    for (size_t i = 0; i < shots.size(); ++i)
        if (shots[i].id == shot_id) return static_cast<int>(i);
    return -1;
}

Result<void> QueuedGeneration::check_invariants() const {
    if (shot_id.empty()) return fail("a queued generation names no shot");
    if (auto r = params.check_invariants(); !r)
        return fail("queued generation of " + shot_id + ": " + r.message());
    return ok();
}

Result<void> Project::check_invariants() const {
    if (next_id < 1) return fail("next_id must be at least 1 (got " + std::to_string(next_id) + ")");
    // Shots, takes, tracks and clips share one id space, so any id names exactly one thing.
    std::set<std::string> ids;
    const auto claim = [&](const std::string& id, const char* what) -> Result<void> {
        if (!ids.insert(id).second) return fail("id " + id + " is used twice (again by a " + what + ")");
        if (id_number(id) >= next_id)
            return fail("id " + id + " is not below next_id " + std::to_string(next_id) +
                        " (a fresh id could collide with it)");
        return ok();
    };
    for (const Shot& s : shots) {
        FL_TRY(s.check_invariants());
        if (auto r = s.params.check_invariants(); !r) return fail("shot " + s.id + ": " + r.message());
        FL_TRY(claim(s.id, "shot"));
        for (const Take& t : s.takes) {
            if (auto r = t.params.check_invariants(); !r) return fail("take " + t.id + ": " + r.message());
            FL_TRY(claim(t.id, "take"));
        }
    }
    for (const QueuedGeneration& q : queued_generations) FL_TRY(q.check_invariants());
    FL_TRY(sequence.check_invariants());
    for (const Track& track : sequence.tracks) {
        FL_TRY(claim(track.id, "track"));
        for (const Clip& c : track.clips) {
            FL_TRY(claim(c.id, "clip"));
            if (c.source.shot_id.empty()) continue;
            const Shot* shot = find_shot(c.source.shot_id);
            if (!shot) {
                // The shot was removed: the clip lives on from its file.
                if (c.source.file.empty())
                    return fail("clip " + c.id + " names shot " + c.source.shot_id +
                                ", which does not exist, and has no file to fall back on");
                continue;
            }
            if (!shot->find_take(c.source.take_id))
                return fail("clip " + c.id + " names take " + c.source.take_id + " of shot " + shot->id +
                            ", which the shot does not have");
        }
    }
    return ok();
}

}  // namespace fl::core
