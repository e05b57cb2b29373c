#include "connectors/transport/io_shards.hpp"

#include <algorithm>

namespace mi::net {

io_shards::io_shards(unsigned n) {
  for (unsigned i = 0; i < std::max(1U, n); ++i)
    threads_.push_back(std::make_unique<io_thread>(1));
}

boost::asio::io_context& io_shards::context(std::size_t i) { return threads_.at(i)->context(); }

std::vector<boost::asio::io_context*> io_shards::contexts() {
  std::vector<boost::asio::io_context*> out;
  for (auto& t : threads_)
    out.push_back(&t->context());
  return out;
}

void io_shards::stop() {
  for (auto& t : threads_)
    t->stop();
}

} // namespace mi::net
