#include "connectors/transport/io_thread.hpp"

#include <optional>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

namespace mi::net {

struct io_thread::impl {
  boost::asio::io_context ioc;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard{
    boost::asio::make_work_guard(ioc)};
  std::thread thread;
};

io_thread::io_thread() : impl_(std::make_unique<impl>()) {
  impl_->thread = std::thread([this] { impl_->ioc.run(); });
}

io_thread::~io_thread() { stop(); }

boost::asio::io_context& io_thread::context() { return impl_->ioc; }

bool io_thread::in_thread() const { return std::this_thread::get_id() == impl_->thread.get_id(); }

void io_thread::stop() {
  if (!impl_->thread.joinable())
    return;
  impl_->guard.reset();
  impl_->ioc.stop();
  impl_->thread.join();
}

} // namespace mi::net
