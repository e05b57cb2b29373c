#pragma once

// The A-share source simulator on a loopback HTTP port (gateways/http's server): every path of cn_sim.hpp. Tests run
// it in-process (docs/simulator.md "A-share sources").

#include <cstdint>
#include <memory>
#include <string>

#include "simulator/cn/cn_sim.hpp"

namespace boost::asio {
class io_context;
}

namespace mi::gw {
class http_server;
}

namespace mi::sim::cn {

/// Serves `sim` on 127.0.0.1:port (0: a free port) until destroyed; the caller runs `ioc`.
class cn_sim_server {
public:
  cn_sim_server(boost::asio::io_context& ioc, cn_sim& sim, std::uint16_t port = 0);
  ~cn_sim_server();
  cn_sim_server(const cn_sim_server&) = delete;
  cn_sim_server& operator=(const cn_sim_server&) = delete;
  std::uint16_t port() const;
  /// http://127.0.0.1:<port>
  std::string base_url() const;

private:
  std::unique_ptr<mi::gw::http_server> server_;
};

} // namespace mi::sim::cn
