#pragma once

// The document simulator on a loopback HTTP port (gateways/http's server): every path of document_sim.hpp. Tests run
// it in-process; `market-ingestor simulate-documents` runs it as a process (docs/simulator.md).

#include <cstdint>
#include <memory>

#include "simulator/documents/document_sim.hpp"

namespace boost::asio {
class io_context;
}

namespace mi::gw {
class http_server;
}

namespace mi::sim::documents {

/// Serves `sim` on host:port (0: a free port) until destroyed; the caller runs `ioc`.
class document_sim_server {
public:
  document_sim_server(boost::asio::io_context& ioc, document_sim& sim, std::uint16_t port = 0);
  ~document_sim_server();
  document_sim_server(const document_sim_server&) = delete;
  document_sim_server& operator=(const document_sim_server&) = delete;
  std::uint16_t port() const;
  /// http://127.0.0.1:<port>
  std::string base_url() const;

private:
  std::unique_ptr<mi::gw::http_server> server_;
};

} // namespace mi::sim::documents
