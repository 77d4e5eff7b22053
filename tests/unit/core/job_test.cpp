#include "frameloom/core/job.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <stdexcept>

namespace fl::core {
namespace {

using namespace std::chrono_literals;

/// Collects every status the listener reports (it runs on the worker thread).
struct Recorder {
    std::mutex mutex;
    std::vector<JobStatus> seen;
    JobQueue::Listener listener() {
        return [this](const JobStatus& s) {
            std::lock_guard lock(mutex);
            seen.push_back(s);
        };
    }
    std::vector<JobStatus> of(uint64_t id) {
        std::lock_guard lock(mutex);
        std::vector<JobStatus> out;
        for (const auto& s : seen)
            if (s.id == id) out.push_back(s);
        return out;
    }
    std::vector<JobState> states_of(uint64_t id) {
        std::vector<JobState> out;
        for (const auto& s : of(id))
            if (out.empty() || out.back() != s.state) out.push_back(s.state);
        return out;
    }
};

/// Lets a test hold a job body until it says go.
struct Gate {
    std::promise<void> started;
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
};

JobState state_of(const JobQueue& q, uint64_t id) {
    for (const auto& s : q.jobs())
        if (s.id == id) return s.state;
    ADD_FAILURE() << "no job " << id;
    return JobState::Failed;
}

TEST(JobQueueTest, RunsInOrderAndReportsProgress) {
    Recorder rec;
    JobQueue q(rec.listener());
    std::mutex order_mutex;
    std::vector<int> order;
    std::vector<uint64_t> ids;
    for (int i = 0; i < 3; ++i) {
        ids.push_back(q.submit("job " + std::to_string(i), [&, i](JobContext& ctx) -> Result<void> {
            ctx.progress(1, 2, "step 1/2");
            ctx.progress_fn()(2, 2, "step 2/2");
            std::lock_guard lock(order_mutex);
            order.push_back(i);
            return ok();
        }));
    }
    EXPECT_EQ(ids, (std::vector<uint64_t>{1, 2, 3}));
    q.wait_idle();
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
    for (const auto& s : q.jobs()) {
        EXPECT_EQ(s.state, JobState::Done) << s.title;
        EXPECT_DOUBLE_EQ(s.fraction(), 1.0);
        EXPECT_EQ(s.label, "step 2/2");
        EXPECT_TRUE(s.error.empty());
    }
    const auto first = rec.of(ids[0]);
    ASSERT_EQ(first.size(), 4u);  // running, 1/2, 2/2, done
    EXPECT_EQ(first[0].state, JobState::Running);
    EXPECT_EQ(first[1].done, 1);
    EXPECT_EQ(first[1].total, 2);
    EXPECT_DOUBLE_EQ(first[1].fraction(), 0.5);
    EXPECT_EQ(first[3].state, JobState::Done);
    EXPECT_EQ(first[3].title, "job 0");
}

TEST(JobQueueTest, QueuedJobIsCancelledAtOnceAndNeverRuns) {
    Recorder rec;
    JobQueue q(rec.listener());
    Gate gate;
    const uint64_t blocker = q.submit("blocker", [&](JobContext&) -> Result<void> {
        gate.started.set_value();
        gate.released.wait();
        return ok();
    });
    std::atomic<bool> ran{false};
    const uint64_t victim = q.submit("victim", [&](JobContext&) -> Result<void> {
        ran = true;
        return ok();
    });
    gate.started.get_future().wait();
    EXPECT_EQ(state_of(q, blocker), JobState::Running);
    q.cancel(victim);
    EXPECT_EQ(state_of(q, victim), JobState::Cancelled);  // at once, not when reached
    gate.release.set_value();
    q.wait_idle();
    EXPECT_FALSE(ran);
    EXPECT_EQ(state_of(q, blocker), JobState::Done);
    EXPECT_EQ(rec.states_of(victim), (std::vector<JobState>{JobState::Cancelled}));
}

TEST(JobQueueTest, RunningJobStopsWhenItChecks) {
    Recorder rec;
    JobQueue q(rec.listener());
    Gate gate;
    const uint64_t id = q.submit("long", [&](JobContext& ctx) -> Result<void> {
        gate.started.set_value();
        const CancelFn cancelled = ctx.cancel_fn();
        for (int step = 0; step < 10000; ++step) {
            if (cancelled()) return fail(kCancelledMessage);
            ctx.progress(step, 10000, "working");
            std::this_thread::sleep_for(1ms);
        }
        return ok();
    });
    gate.started.get_future().wait();
    q.cancel(id);
    q.wait_idle();
    const auto s = q.jobs()[0];
    EXPECT_EQ(s.state, JobState::Cancelled);
    EXPECT_TRUE(s.error.empty());
    EXPECT_LT(s.done, 10000);
    EXPECT_EQ(rec.states_of(id), (std::vector<JobState>{JobState::Running, JobState::Cancelled}));
}

TEST(JobQueueTest, ErrorAfterCancelCountsAsCancelledButSuccessAsDone) {
    JobQueue q;
    Gate a;
    const uint64_t stopped = q.submit("stops with its own words", [&](JobContext& ctx) -> Result<void> {
        a.started.set_value();
        while (!ctx.cancelled()) std::this_thread::sleep_for(1ms);
        return fail("decoder interrupted");
    });
    a.started.get_future().wait();
    q.cancel(stopped);
    q.wait_idle();
    EXPECT_EQ(state_of(q, stopped), JobState::Cancelled);

    Gate b;
    const uint64_t finished = q.submit("finishes anyway", [&](JobContext& ctx) -> Result<void> {
        b.started.set_value();
        while (!ctx.cancelled()) std::this_thread::sleep_for(1ms);
        return ok();  // was already done when it noticed
    });
    b.started.get_future().wait();
    q.cancel_all();
    q.wait_idle();
    EXPECT_EQ(state_of(q, finished), JobState::Done);
}

TEST(JobQueueTest, FailureKeepsMessageAndLaterJobsRun) {
    JobQueue q;
    const uint64_t bad = q.submit("bad", [](JobContext&) -> Result<void> {
        return fail("model file truncated: expected 1.2 GB, found 0.4 GB");
    });
    const uint64_t good = q.submit("good", [](JobContext&) -> Result<void> { return ok(); });
    q.wait_idle();
    const auto jobs = q.jobs();
    EXPECT_EQ(jobs[0].id, bad);
    EXPECT_EQ(jobs[0].state, JobState::Failed);
    EXPECT_EQ(jobs[0].error, "model file truncated: expected 1.2 GB, found 0.4 GB");
    EXPECT_EQ(jobs[1].id, good);
    EXPECT_EQ(jobs[1].state, JobState::Done);
}

TEST(JobQueueTest, ExceptionsBecomeFailuresNotCrashes) {
    JobQueue q;
    q.submit("throws", [](JobContext&) -> Result<void> { throw std::runtime_error("CUDA out of memory"); });
    q.submit("throws int", [](JobContext&) -> Result<void> { throw 42; });
    q.submit("empty body", JobQueue::Body{});
    q.submit("after", [](JobContext&) -> Result<void> { return ok(); });
    q.wait_idle();
    const auto jobs = q.jobs();
    ASSERT_EQ(jobs.size(), 4u);
    EXPECT_EQ(jobs[0].state, JobState::Failed);
    EXPECT_NE(jobs[0].error.find("CUDA out of memory"), std::string::npos) << jobs[0].error;
    EXPECT_EQ(jobs[1].state, JobState::Failed);
    EXPECT_FALSE(jobs[1].error.empty());
    EXPECT_EQ(jobs[2].state, JobState::Failed);
    EXPECT_EQ(jobs[3].state, JobState::Done);
}

TEST(JobQueueTest, ThrowingListenerDoesNotStopTheWorker) {
    JobQueue q([](const JobStatus&) { throw std::runtime_error("listener bug"); });
    q.submit("a", [](JobContext&) -> Result<void> { return ok(); });
    q.submit("b", [](JobContext&) -> Result<void> { return ok(); });
    q.wait_idle();
    for (const auto& s : q.jobs()) EXPECT_EQ(s.state, JobState::Done);
}

TEST(JobQueueTest, DestructorCancelsRunningAndQueuedJobs) {
    Recorder rec;
    std::atomic<bool> second_ran{false};
    uint64_t running = 0, queued = 0;
    const auto start = std::chrono::steady_clock::now();
    {
        JobQueue q(rec.listener());
        Gate gate;
        running = q.submit("long", [&](JobContext& ctx) -> Result<void> {
            gate.started.set_value();
            while (!ctx.cancelled()) std::this_thread::sleep_for(1ms);
            return fail(kCancelledMessage);
        });
        queued = q.submit("never", [&](JobContext&) -> Result<void> {
            second_ran = true;
            return ok();
        });
        gate.started.get_future().wait();
    }
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
    EXPECT_FALSE(second_ran);
    EXPECT_EQ(rec.states_of(running).back(), JobState::Cancelled);
    EXPECT_EQ(rec.states_of(queued), (std::vector<JobState>{JobState::Cancelled}));
}

TEST(JobQueueTest, WaitIdleOnEmptyQueueReturns) {
    JobQueue q;
    q.wait_idle();
    EXPECT_TRUE(q.jobs().empty());
    q.cancel(99);  // unknown ids are ignored
}

TEST(JobQueueTest, StateNames) {
    EXPECT_STREQ(to_string(JobState::Queued), "queued");
    EXPECT_STREQ(to_string(JobState::Running), "running");
    EXPECT_STREQ(to_string(JobState::Done), "done");
    EXPECT_STREQ(to_string(JobState::Failed), "failed");
    EXPECT_STREQ(to_string(JobState::Cancelled), "cancelled");
    EXPECT_TRUE(is_cancelled_message(kCancelledMessage));
}

}  // namespace
}  // namespace fl::core
