#pragma once

#include <memory>
#include <thread>

namespace boost::asio {
class io_context;
}

namespace mi::net {

/// Owns one boost::asio::io_context, a work guard and one std::thread running it: the platform's
/// socket thread (and a test's). Stopped and joined by stop() or the destructor.
class io_thread {
public:
  /// Starts the thread.
  io_thread();
  /// stop().
  ~io_thread();
  io_thread(const io_thread&) = delete;
  io_thread& operator=(const io_thread&) = delete;

  /// The io_context the thread runs.
  boost::asio::io_context& context();

  /// Releases the work guard, stops the context and joins the thread; idempotent. Must not be called
  /// from the io thread itself.
  void stop();

  /// True when called from the io thread.
  bool in_thread() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace mi::net
