#include "connectors/transport/io_thread.hpp"

#include <algorithm>
#include <optional>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

namespace mi::net {

struct io_thread::impl {
  boost::asio::io_context ioc;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard{
    boost::asio::make_work_guard(ioc)};
  std::vector<std::thread> threads;
};

io_thread::io_thread(unsigned threads) : impl_(std::make_unique<impl>()) {
  for (unsigned i = 0; i < std::max(1U, threads); ++i)
    impl_->threads.emplace_back([this] { impl_->ioc.run(); });
}

io_thread::~io_thread() { stop(); }

boost::asio::io_context& io_thread::context() { return impl_->ioc; }

bool io_thread::in_thread() const {
  return std::any_of(impl_->threads.begin(), impl_->threads.end(),
                     [](const std::thread& t) { return t.get_id() == std::this_thread::get_id(); });
}

void io_thread::stop() {
  if (impl_->threads.empty() || !impl_->threads.front().joinable())
    return;
  impl_->guard.reset();
  impl_->ioc.stop();
  for (auto& t : impl_->threads)
    t.join();
}

} // namespace mi::net
