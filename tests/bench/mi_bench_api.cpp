// mi_bench_api: history query latency, 1000 klines through the REST API vs the raw SQL query,
// in the same run.
//
//   mi_bench_api [--rounds R] [--auth required|off]   (defaults: 500 requests each, auth required)
//
// Starts its own PostgreSQL 15 (mi_test_harness, default settings), applies the migrations and
// stores 5000 one-minute klines of binance BTCUSDT through pg_writer. Then, alternating one of
// each per iteration so both see the same machine load:
//   (a) baseline: plain libpqxx 6.4 on one open connection, the API's own SELECT of 1000 klines
//       (numeric columns as text) by exchange, symbol, interval and an open_time range, every
//       field read into a std::string;
//   (b) API: GET /api/v1/klines?...&limit=1000 over one keep-alive loopback connection to an
//       http_server + api_service in this process (2 workers), signed with a fresh nonce each
//       time when auth is required, the whole JSON body read.
// The start time rotates over 4000 positions so neither side only hits one cached page.
// Prints p50/p90/p99/max in ms for both, and checks each API answer holds 1000 candles.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <pqxx/pqxx>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "gateways/http/api.hpp"
#include "gateways/http/api_keys.hpp"
#include "gateways/postgres/postgres.hpp"
#include "tests/harness/pg_server.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

constexpr std::int64_t t0 = 1'706'745'600'000; // 2024-02-01T00:00:00Z
constexpr int stored = 5000;

mi::decimal dec(const std::string& s) { return *mi::decimal::parse(s); }

std::vector<mi::kline> klines() {
  std::vector<mi::kline> out;
  for (int i = 0; i < stored; ++i) {
    mi::kline k;
    k.exchange = "binance";
    k.symbol = "BTCUSDT";
    k.interval = "1m";
    k.open_time_ms = t0 + i * 60'000LL;
    k.close_time_ms = k.open_time_ms + 59'999;
    k.open = dec("64000." + std::to_string(i % 100));
    k.high = dec("64100.12345678");
    k.low = dec("63900.5");
    k.close = dec("64010." + std::to_string(i % 97));
    k.volume = dec("12.34567891");
    k.quote_volume = dec("790123.45678912");
    k.trade_count = 100 + i;
    k.taker_buy_volume = dec("6.1");
    k.taker_buy_quote_volume = dec("390000.1");
    k.vwap = dec("64001.123456789012345678");
    k.first_trade_id = std::to_string(1000000 + i * 200);
    k.last_trade_id = std::to_string(1000000 + i * 200 + 199);
    k.is_final = true;
    out.push_back(k);
  }
  return out;
}

class http_client {
public:
  explicit http_client(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      throw std::runtime_error("connect");
  }
  ~http_client() { ::close(fd_); }
  /// Sends one request, returns the body (keep-alive, Content-Length framing).
  std::string get(const std::string& request, int& status) {
    if (::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size()))
      throw std::runtime_error("send");
    std::size_t head_end;
    while ((head_end = buf_.find("\r\n\r\n")) == std::string::npos)
      fill();
    status = std::stoi(buf_.substr(9, 3));
    auto cl = buf_.find("Content-Length: ");
    if (cl == std::string::npos || cl > head_end)
      throw std::runtime_error("no Content-Length");
    std::size_t len = std::stoul(buf_.substr(cl + 16));
    while (buf_.size() < head_end + 4 + len)
      fill();
    std::string body = buf_.substr(head_end + 4, len);
    buf_.erase(0, head_end + 4 + len);
    return body;
  }

private:
  void fill() {
    char tmp[65536];
    auto n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0)
      throw std::runtime_error("connection closed");
    buf_.append(tmp, static_cast<std::size_t>(n));
  }
  int fd_;
  std::string buf_;
};

double pct(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

void report(const char* name, const std::vector<double>& ms) {
  std::printf("%-34s p50 %7.2f ms  p90 %7.2f ms  p99 %7.2f ms  max %7.2f ms  (n=%zu)\n", name, pct(ms, 0.5),
              pct(ms, 0.9), pct(ms, 0.99), pct(ms, 1.0), ms.size());
}

} // namespace

int main(int argc, char** argv) {
  int rounds = 500;
  bool auth = true;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--rounds"))
      rounds = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--auth"))
      auth = std::strcmp(argv[i + 1], "off") != 0;
  }
  mi::test::pg_server pg;
  if (auto m = mi::gw::migrate(pg.conninfo()); !m)
    throw std::runtime_error(m.err().message);
  auto w = mi::gw::pg_writer::connect(pg.conninfo());
  if (!w || !(*w)->upsert_klines(klines()))
    throw std::runtime_error("cannot store klines");
  pg.psql("VACUUM ANALYZE market_klines");
  const auto master = mi::gw::auth::parse_master_key(std::string(64, '5'));
  auto key = mi::gw::create_api_key(pg.conninfo(), "bench", 1'000'000'000, *master);
  if (!key)
    throw std::runtime_error(key.err().message);

  boost::asio::io_context ioc;
  auto guard = boost::asio::make_work_guard(ioc);
  mi::gw::api_options ao;
  ao.conninfo = pg.conninfo();
  ao.auth_required = auth;
  ao.master_key = *master;
  mi::gw::api_service api{ao};
  mi::gw::http_server server{ioc, {}, [&](const mi::gw::http_request& r) { return api.handle(r); }};
  std::thread io([&] { ioc.run(); });

  pqxx::connection conn{pg.conninfo()};
  http_client client{server.port()};
  const std::string sql =
    "SELECT exchange, symbol, \"interval\", open_time_ms, (extract(epoch FROM close_time) * 1000)::bigint, "
    "open::text, high::text, low::text, close::text, volume::text, quote_volume::text, trade_count, "
    "taker_buy_volume::text, taker_buy_quote_volume::text, vwap::text, first_trade_id, last_trade_id, revision "
    "FROM market_klines WHERE exchange = $1 AND symbol = $2 AND \"interval\" = $3 AND open_time >= "
    "('epoch'::timestamptz + $4::bigint * interval '1 millisecond') AND open_time <= "
    "('epoch'::timestamptz + $5::bigint * interval '1 millisecond') ORDER BY open_time LIMIT 1000";

  std::vector<double> raw_ms, api_ms;
  const auto signing = mi::gw::auth::signing_key(key->key_id, key->secret);
  for (int i = 0; i < rounds + 20; ++i) { // the first 20 of each warm up and are not counted
    const std::int64_t start = t0 + (i % 4000) * 60'000LL;
    const std::int64_t end = start + 999 * 60'000LL;
    const std::string query = "end=" + std::to_string(end) +
                              "&exchange=binance&interval=1m&limit=1000&start=" + std::to_string(start) +
                              "&symbol=BTCUSDT";
    std::string headers;
    if (auth) {
      const auto ts = std::to_string(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
      headers =
        "X-MI-APIKEY: " + key->key_id + "\r\nX-MI-TIMESTAMP: " + ts + "\r\nX-MI-NONCE: b" + std::to_string(i) +
        "\r\nX-MI-SIGNATURE: " +
        mi::gw::auth::hmac_sha256_hex(signing, mi::gw::auth::string_to_sign(ts, "GET", "/api/v1/klines", query)) +
        "\r\n";
    }
    const std::string request = "GET /api/v1/klines?" + query + " HTTP/1.1\r\nHost: bench\r\n" + headers + "\r\n";

    auto run_raw = [&] {
      auto a = clock_type::now();
      pqxx::read_transaction tx{conn};
      auto rows = tx.exec_params(sql, "binance", "BTCUSDT", "1m", start, end);
      std::size_t bytes = 0;
      for (const auto& r : rows)
        for (const auto& f : r)
          bytes += std::string(f.c_str()).size();
      tx.commit();
      if (rows.size() != 1000 || bytes == 0)
        throw std::runtime_error("raw query returned " + std::to_string(rows.size()));
      return std::chrono::duration<double, std::milli>(clock_type::now() - a).count();
    };
    auto run_api = [&] {
      auto a = clock_type::now();
      int status = 0;
      auto body = client.get(request, status);
      double took = std::chrono::duration<double, std::milli>(clock_type::now() - a).count();
      if (status != 200)
        throw std::runtime_error("API status " + std::to_string(status) + ": " + body);
      std::size_t n = 0;
      for (auto p = body.find("\"open_time_ms\""); p != std::string::npos; p = body.find("\"open_time_ms\"", p + 1))
        ++n;
      if (n != 1000)
        throw std::runtime_error("API returned " + std::to_string(n) + " klines");
      return took;
    };
    double r, h;
    if (i % 2) {
      r = run_raw();
      h = run_api();
    } else {
      h = run_api();
      r = run_raw();
    }
    if (i >= 20) {
      raw_ms.push_back(r);
      api_ms.push_back(h);
    }
  }
  std::printf("1000 klines per query, %d queries each, auth %s\n", rounds, auth ? "required" : "off");
  report("baseline: libpqxx SELECT", raw_ms);
  report("API: GET /api/v1/klines (HTTP)", api_ms);
  server.stop();
  guard.reset();
  ioc.stop();
  io.join();
  return 0;
}
