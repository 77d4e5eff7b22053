#include "frameloom/core/job.h"

#include <algorithm>
#include <exception>
#include <stdexcept>

namespace fl::core {

const char* to_string(JobState state) {
    switch (state) {
        case JobState::Queued:
            return "queued";
        case JobState::Running:
            return "running";
        case JobState::Done:
            return "done";
        case JobState::Failed:
            return "failed";
        case JobState::Cancelled:
            return "cancelled";
    }
    return "unknown";
}

/// One submitted job. `status` and `body` are guarded by the queue's mutex.
struct JobQueue::Entry {
    JobStatus status;
    Body body;
    std::atomic<bool> cancel_requested{false};
    bool announce = false;  ///< a change made off the worker thread still to be reported to the listener
};

namespace {

/// What the running body sees: progress goes to the entry (and the listener), cancel reads its flag.
class Context final : public JobContext {
public:
    using Report = std::function<void(int64_t, int64_t, const std::string&)>;
    Context(const std::atomic<bool>& cancel_flag, Report report)
        : cancel_(cancel_flag), report_(std::move(report)) {}
    void progress(int64_t done, int64_t total, const std::string& label) override {
        report_(done, total, label);
    }
    bool cancelled() const override { return cancel_.load(); }

private:
    const std::atomic<bool>& cancel_;
    Report report_;
};

}  // namespace

JobQueue::JobQueue(Listener on_change) : on_change_(std::move(on_change)) {
    worker_ = std::thread([this] { run(); });
}

JobQueue::~JobQueue() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    cancel_all();
    worker_.join();
}

uint64_t JobQueue::submit(std::string title, Body body) {
    std::lock_guard lock(mutex_);
    auto entry = std::make_shared<Entry>();
    entry->status.id = next_id_++;
    entry->status.title = std::move(title);
    entry->body = std::move(body);
    if (stopping_) {  // the queue is shutting down: nothing new will run
        entry->status.state = JobState::Cancelled;
        entry->body = nullptr;
    }
    const uint64_t id = entry->status.id;
    all_.push_back(std::move(entry));
    cv_.notify_all();
    return id;
}

void JobQueue::cancel(uint64_t id) {
    Body dropped;  // destroyed outside the lock: its captures may be heavy
    {
        std::lock_guard lock(mutex_);
        for (auto& e : all_) {
            if (e->status.id != id) continue;
            if (e->status.state == JobState::Queued) {
                e->status.state = JobState::Cancelled;
                e->announce = true;
                dropped = std::move(e->body);
                e->body = nullptr;
            } else if (e->status.state == JobState::Running) {
                e->cancel_requested = true;
            }
            break;
        }
        cv_.notify_all();
    }
}

void JobQueue::cancel_all() {
    std::vector<Body> dropped;
    {
        std::lock_guard lock(mutex_);
        for (auto& e : all_) {
            if (e->status.state == JobState::Queued) {
                e->status.state = JobState::Cancelled;
                e->announce = true;
                dropped.push_back(std::move(e->body));
                e->body = nullptr;
            } else if (e->status.state == JobState::Running) {
                e->cancel_requested = true;
            }
        }
        cv_.notify_all();
    }
}

std::vector<JobStatus> JobQueue::jobs() const {
    std::lock_guard lock(mutex_);
    std::vector<JobStatus> out;
    out.reserve(all_.size());
    for (const auto& e : all_) out.push_back(e->status);
    return out;
}

void JobQueue::wait_idle() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] {
        if (worker_busy_) return false;
        return std::none_of(all_.begin(), all_.end(), [](const auto& e) {
            return e->announce || e->status.state == JobState::Queued || e->status.state == JobState::Running;
        });
    });
}

void JobQueue::notify(const JobStatus& status) {
    if (!on_change_) return;
    try {
        on_change_(status);
    } catch (...) {
        // A faulty listener must not kill the worker (and with it every later job).
    }
}

void JobQueue::run() {
    std::unique_lock lock(mutex_);
    for (;;) {
        cv_.wait(lock, [&] {
            return stopping_ || std::any_of(all_.begin(), all_.end(), [](const auto& e) {
                       return e->announce || e->status.state == JobState::Queued;
                   });
        });

        // 1. Report changes made on other threads (queued jobs cancelled), so listeners hear them here.
        std::vector<JobStatus> announcements;
        for (auto& e : all_) {
            if (e->announce) {
                e->announce = false;
                announcements.push_back(e->status);
            }
        }
        if (!announcements.empty()) {
            worker_busy_ = true;
            lock.unlock();
            for (const JobStatus& s : announcements) notify(s);
            lock.lock();
            worker_busy_ = false;
            cv_.notify_all();
            continue;
        }

        // 2. Run the oldest queued job.
        const auto it = std::find_if(all_.begin(), all_.end(),
                                     [](const auto& e) { return e->status.state == JobState::Queued; });
        if (it == all_.end()) {
            if (stopping_) return;
            continue;
        }
        std::shared_ptr<Entry> entry = *it;
        entry->status.state = JobState::Running;
        Body body = std::move(entry->body);
        entry->body = nullptr;
        JobStatus snapshot = entry->status;
        worker_busy_ = true;
        lock.unlock();

        notify(snapshot);
        Context ctx(entry->cancel_requested,
                    [this, entry](int64_t done, int64_t total, const std::string& label) {
                        JobStatus s;
                        {
                            std::lock_guard guard(mutex_);
                            entry->status.done = done;
                            entry->status.total = total;
                            entry->status.label = label;
                            s = entry->status;
                        }
                        notify(s);
                    });

        Result<void> result;
        bool threw = false;
        std::string exception_text;
        try {
            if (!body) throw std::runtime_error("the job has nothing to run");
            result = body(ctx);
        } catch (const std::exception& e) {
            threw = true;
            exception_text = e.what();
        } catch (...) {
            threw = true;
        }
        body = nullptr;

        lock.lock();
        if (threw) {
            entry->status.state = JobState::Failed;
            entry->status.error = exception_text.empty()
                                      ? std::string("the job crashed with an unknown error")
                                      : "the job crashed: " + exception_text;
        } else if (result.ok()) {
            entry->status.state = JobState::Done;
        } else if (is_cancelled_message(result.message()) || entry->cancel_requested) {
            entry->status.state = JobState::Cancelled;
        } else {
            entry->status.state = JobState::Failed;
            entry->status.error = result.message();
        }
        snapshot = entry->status;
        lock.unlock();
        notify(snapshot);
        lock.lock();
        worker_busy_ = false;
        cv_.notify_all();
    }
}

}  // namespace fl::core
