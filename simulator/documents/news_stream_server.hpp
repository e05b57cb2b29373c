#pragma once

// The simulated Alpaca news WebSocket (docs/simulator.md "Document sources"): news_stream_protocol (document_sim.hpp)
// on a loopback port, pushing every alpaca item added to or updated in the document_sim to its subscribed clients
// (the same items, in the same shape, as its REST /v1beta1/news), with the drop fault. Tests run it in-process.

#include <cstdint>
#include <memory>
#include <string>

#include "simulator/documents/document_sim.hpp"

namespace boost::asio {
class io_context;
}

namespace mi::sim::documents {

/// Serves ws://127.0.0.1:<port>/v1beta1/news until destroyed; the caller runs `ioc`. Registers itself as `sim`'s
/// listener (one stream server per document_sim).
class news_stream_server {
public:
  news_stream_server(boost::asio::io_context& ioc, document_sim& sim, std::uint16_t port = 0);
  ~news_stream_server();
  news_stream_server(const news_stream_server&) = delete;
  news_stream_server& operator=(const news_stream_server&) = delete;

  std::uint16_t port() const;
  /// ws://127.0.0.1:<port>/v1beta1/news
  std::string url() const;

  /// Fault: closes every connection at once, without a close frame (a drop mid-stream); items added while no
  /// client is subscribed are never sent on the stream (as Alpaca: the stream does not replay).
  void drop_all();
  /// Fault: while true, upgrades are refused (HTTP 503): the client stays disconnected.
  void refuse(bool on);
  /// WebSocket connections accepted so far.
  std::uint64_t connections() const;
  /// Clients subscribed now.
  std::uint64_t subscribed() const;
  /// `n` frames written so far (all clients).
  std::uint64_t news_frames_sent() const;

  struct core;

private:
  std::shared_ptr<core> core_;
  document_sim& sim_;
};

} // namespace mi::sim::documents
