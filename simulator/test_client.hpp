// Test-only: a ws_client whose events are collected for the test thread (the simulator's tests).
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "connectors/transport/ws_client.hpp"

namespace mi::sim::test {

using namespace std::chrono_literals;

/// A ws_client whose events are collected for the test thread.
class test_client {
public:
  test_client(boost::asio::io_context& ioc, const std::string& text, mi::net::ws_options o = {},
              std::function<void(test_client&, const std::string&)> hook = {})
      : hook_(std::move(hook)) {
    auto u = mi::net::parse_url(text);
    REQUIRE(u);
    ws_ = mi::net::ws_client::create(ioc, *u, o,
                                     {[this] {
                                        std::lock_guard lk(m_);
                                        opened_ = true;
                                        cv_.notify_all();
                                      },
                                      [this](std::string&& t, std::int64_t recv_ns) {
                                        CHECK(recv_ns > 0);
                                        if (hook_)
                                          hook_(*this, t);
                                        std::lock_guard lk(m_);
                                        texts_.push_back(std::move(t));
                                        cv_.notify_all();
                                      },
                                      [this](std::string why) {
                                        std::lock_guard lk(m_);
                                        closed_ = std::move(why);
                                        cv_.notify_all();
                                      }});
    ws_->start();
  }
  ~test_client() {
    ws_->close();
    wait_closed(10s);
  }

  mi::net::ws_client& ws() { return *ws_; }

  bool wait_open(std::chrono::milliseconds t = 5s) {
    std::unique_lock lk(m_);
    return cv_.wait_for(lk, t, [&] { return opened_ || closed_; }) && opened_;
  }
  /// Waits until at least n texts arrived (false on timeout or close).
  bool wait_texts(std::size_t n, std::chrono::milliseconds t = 10s) {
    std::unique_lock lk(m_);
    cv_.wait_for(lk, t, [&] { return texts_.size() >= n || closed_; });
    return texts_.size() >= n;
  }
  /// Waits for on_close; returns its reason, or nullopt on timeout.
  std::optional<std::string> wait_closed(std::chrono::milliseconds t) {
    std::unique_lock lk(m_);
    cv_.wait_for(lk, t, [&] { return closed_.has_value(); });
    return closed_;
  }
  /// Waits until pred(texts) holds.
  template <class P>
  bool wait_until(P pred, std::chrono::milliseconds t = 10s) {
    std::unique_lock lk(m_);
    return cv_.wait_for(lk, t, [&] { return pred(texts_) || closed_; }) && pred(texts_);
  }
  std::vector<std::string> texts() {
    std::lock_guard lk(m_);
    return texts_;
  }

private:
  std::function<void(test_client&, const std::string&)> hook_;
  std::shared_ptr<mi::net::ws_client> ws_;
  std::mutex m_;
  std::condition_variable cv_;
  bool opened_ = false;
  std::optional<std::string> closed_;
  std::vector<std::string> texts_;
};

/// A plain HTTP answer, headers with lower-case names.
struct http_answer {
  unsigned status = 0;
  std::map<std::string, std::string> headers;
  std::string body;
};

/// Blocking GET http://127.0.0.1:port<target> with Connection: close (status, headers and body, which
/// mi::net::http_get does not show for non-2xx answers).
inline http_answer raw_get(std::uint16_t port, const std::string& target) {
  namespace asio = boost::asio;
  asio::io_context ioc;
  asio::ip::tcp::socket sock(ioc);
  sock.connect({asio::ip::make_address("127.0.0.1"), port});
  const std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  asio::write(sock, asio::buffer(req));
  std::string raw;
  boost::system::error_code ec;
  asio::read(sock, asio::dynamic_buffer(raw), ec); // until the server closes
  http_answer a;
  const auto head_end = raw.find("\r\n\r\n");
  REQUIRE(head_end != std::string::npos);
  a.body = raw.substr(head_end + 4);
  std::size_t pos = raw.find("\r\n");
  const std::string status_line = raw.substr(0, pos);
  a.status = static_cast<unsigned>(std::stoul(status_line.substr(status_line.find(' ') + 1, 3)));
  while (pos < head_end) {
    const auto next = raw.find("\r\n", pos + 2);
    const std::string line = raw.substr(pos + 2, next - pos - 2);
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string key = line.substr(0, colon);
      for (auto& c : key)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      a.headers[key] = line.substr(line.find_first_not_of(' ', colon + 1));
    }
    pos = next;
  }
  return a;
}

} // namespace mi::sim::test
