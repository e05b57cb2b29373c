#pragma once

// A small fixed pool of threads running tasks in FIFO order, with a bounded queue. For blocking
// work (PostgreSQL) that must not run on an I/O thread.

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace mi::gw {

/// Fixed threads, bounded FIFO queue. Thread-safe.
class worker_pool {
public:
  /// Starts max(1, threads) threads; at most `max_queued` tasks wait.
  worker_pool(std::size_t threads, std::size_t max_queued) : max_queued_(max_queued) {
    for (std::size_t i = 0; i < std::max<std::size_t>(1, threads); ++i)
      threads_.emplace_back([this] { loop(); });
  }
  /// stop().
  ~worker_pool() { stop(); }
  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;

  /// Queues a task; false when the queue is full or the pool stopped (the task is not run).
  bool submit(std::function<void()> task) {
    {
      std::lock_guard lock{mu_};
      if (stopped_ || tasks_.size() >= max_queued_)
        return false;
      tasks_.push_back(std::move(task));
    }
    cv_.notify_one();
    return true;
  }

  /// Drops waiting tasks, lets running ones finish, joins the threads. Idempotent; call it from
  /// outside the pool.
  void stop() {
    std::vector<std::thread> threads;
    std::deque<std::function<void()>> dropped;
    {
      std::lock_guard lock{mu_};
      stopped_ = true;
      dropped.swap(tasks_);
      threads.swap(threads_);
    }
    cv_.notify_all();
    for (auto& t : threads)
      t.join();
    // `dropped` is destroyed here, outside the lock: a task's captures may call back into us.
  }

private:
  void loop() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock lock{mu_};
        cv_.wait(lock, [this] { return stopped_ || !tasks_.empty(); });
        if (stopped_)
          return;
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }

  const std::size_t max_queued_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_; // guarded by mu_
  bool stopped_ = false;                    // guarded by mu_
  std::vector<std::thread> threads_;        // guarded by mu_
};

} // namespace mi::gw
