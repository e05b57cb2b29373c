#include "simulator/cn/cn_sim_server.hpp"

#include <chrono>
#include <thread>

#include "gateways/http/http_server.hpp"

namespace mi::sim::cn {

cn_sim_server::cn_sim_server(boost::asio::io_context& ioc, cn_sim& sim, std::uint16_t port) {
  mi::gw::http_server_options o;
  o.port = port;
  o.workers = 2;
  o.body_limit = 65536;
  o.server_name = "market-ingestor-cn-sim";
  server_ = std::make_unique<mi::gw::http_server>(ioc, o, [&sim](const mi::gw::http_request& req) {
    auto r = sim.handle(req.path, req.query);
    if (r.delay_ms > 0) // a timeout fault: the client gives up first (on a worker thread, not the I/O thread)
      std::this_thread::sleep_for(std::chrono::milliseconds(r.delay_ms));
    return mi::gw::http_response{r.status, std::move(r.body), std::move(r.content_type), std::move(r.headers)};
  });
}

cn_sim_server::~cn_sim_server() {
  if (server_)
    server_->stop();
}

std::uint16_t cn_sim_server::port() const { return server_->port(); }

std::string cn_sim_server::base_url() const { return "http://127.0.0.1:" + std::to_string(port()); }

} // namespace mi::sim::cn
