#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "connectors/transport/io_thread.hpp"

namespace boost::asio {
class io_context;
}

namespace mi::net {

/// N io_contexts, each run by its own single thread: for work that is cheaper without strands because each object
/// stays on one thread (the push gateway's sessions, push.io_threads). Stopped and joined by stop() or the destructor.
class io_shards {
public:
  /// Starts `n` contexts and threads (at least one).
  explicit io_shards(unsigned n);
  io_shards(const io_shards&) = delete;
  io_shards& operator=(const io_shards&) = delete;

  /// How many.
  std::size_t size() const { return threads_.size(); }
  /// The i-th context (i < size()).
  boost::asio::io_context& context(std::size_t i = 0);
  /// All of them, in order.
  std::vector<boost::asio::io_context*> contexts();
  /// Stops and joins every thread; idempotent; not from one of them.
  void stop();

private:
  std::vector<std::unique_ptr<io_thread>> threads_;
};

} // namespace mi::net
