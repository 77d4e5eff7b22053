#pragma once
/// Background jobs with progress and cancellation, run one at a time on a worker thread.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "frameloom/core/cancel.h"
#include "frameloom/core/result.h"

namespace fl::core {

/// Lifecycle of a job.
enum class JobState { Queued, Running, Done, Failed, Cancelled };

/// "queued", "running", ...
const char* to_string(JobState state);

/// What the job body receives: report progress, ask whether to stop.
class JobContext {
public:
    /// Updates progress (done of total) and its label; thread-safe.
    virtual void progress(int64_t done, int64_t total, const std::string& label) = 0;
    /// True once cancel was requested.
    virtual bool cancelled() const = 0;
    virtual ~JobContext() = default;
    /// Adapters for request callbacks.
    ProgressFn progress_fn() { return [this](int64_t d, int64_t t, const std::string& l) { progress(d, t, l); }; }
    CancelFn cancel_fn() const { return [this] { return cancelled(); }; }
};

/// A snapshot of a job's state for display.
struct JobStatus {
    uint64_t id = 0;
    std::string title;
    JobState state = JobState::Queued;
    int64_t done = 0;
    int64_t total = 0;
    std::string label;
    std::string error;  ///< set when Failed
    double fraction() const { return total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 0.0; }
};

/// Runs submitted jobs in order on one worker thread.
/// Listeners are called on the worker thread; a GUI marshals them to its own thread.
class JobQueue {
public:
    using Body = std::function<Result<void>(JobContext&)>;
    using Listener = std::function<void(const JobStatus&)>;

    explicit JobQueue(Listener on_change = {});
    ~JobQueue();  ///< cancels pending and running jobs and joins the worker
    JobQueue(const JobQueue&) = delete;
    JobQueue& operator=(const JobQueue&) = delete;

    /// Queues a job and returns its id.
    uint64_t submit(std::string title, Body body);
    /// Requests cancellation (a queued job is cancelled at once; a running one when it next checks).
    void cancel(uint64_t id);
    void cancel_all();
    /// Status of every job submitted so far, oldest first.
    std::vector<JobStatus> jobs() const;
    /// Blocks until no job is queued or running and every change was reported to the listener.
    /// Must not be called from a job body or a listener.
    void wait_idle();

private:
    struct Entry;
    void run();
    void notify(const JobStatus& status);

    Listener on_change_;
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<std::shared_ptr<Entry>> all_;
    uint64_t next_id_ = 1;
    bool stopping_ = false;
    bool worker_busy_ = false;  ///< the worker is running a job or calling the listener
    std::thread worker_;
};

}  // namespace fl::core
