#pragma once

#include <memory>
#include <thread>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace mi::net {

/// Owns one boost::asio::io_context, a work guard and the std::threads running it (one by default): the
/// platform's socket thread (and a test's); the push gateway's own pool (push.io_threads; its sessions are
/// strands, so several threads may run them). Stopped and joined by stop() or the destructor.
class io_thread {
public:
  /// Starts `threads` threads (at least one).
  explicit io_thread(unsigned threads = 1);
  /// stop().
  ~io_thread();
  io_thread(const io_thread&) = delete;
  io_thread& operator=(const io_thread&) = delete;

  /// The io_context the thread runs.
  boost::asio::io_context& context();

  /// Releases the work guard, stops the context and joins the thread; idempotent. Must not be called
  /// from the io thread itself.
  void stop();

  /// True when called from one of the io threads.
  bool in_thread() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace mi::net
