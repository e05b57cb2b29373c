// Bybit v5 public spot, server side: /v5/public/spot with {"req_id":..,"op":"subscribe","args":["publicTrade.X"]}
// (at most 10 args), {"op":"ping"} -> pong; REST market/instruments-info and market/recent-trade (newest first).
// Bybit has no forced-disconnect notice. Books: orderbook.{1|50|200|1000}.X, a snapshot on subscribe, then deltas
// numbered u = previous u + 1 (the simulated book's update ids), at the subscribed depth.
#include <algorithm>
#include <array>
#include <cstdio>
#include <map>

#include <boost/json.hpp>

#include "connectors/bybit/codec.hpp"
#include "connectors/json_text.hpp"
#include "simulator/generator.hpp"
#include "simulator/protocols/protocol.hpp"

namespace mi::sim {
namespace {

using connectors::text::append_json_string;

struct bybit_connection : connection_state {
  std::string conn_id;
  std::map<std::string, depth_view, std::less<>> books; ///< by symbol: the subscribed depth's view
};

/// Bybit's spot book depths.
constexpr std::array<std::size_t, 4> book_depths{1, 50, 200, 1000};

/// "publicTrade.X" -> (X, trade kind); "orderbook.50.X" -> (X, book kind, 50); nullopt for anything else.
struct topic_ref {
  std::string symbol;
  int kind = 0;
  std::size_t depth = 0;
};
std::optional<topic_ref> parse_topic(std::string_view topic) {
  constexpr std::string_view trade = "publicTrade.", book = "orderbook.";
  if (topic.substr(0, trade.size()) == trade)
    return topic_ref{std::string(topic.substr(trade.size())), 0, 0};
  if (topic.substr(0, book.size()) != book)
    return std::nullopt;
  topic.remove_prefix(book.size());
  const auto dot = topic.find('.');
  if (dot == std::string_view::npos)
    return std::nullopt;
  const auto depth = parse_uint(topic.substr(0, dot));
  if (!depth || std::find(book_depths.begin(), book_depths.end(), *depth) == book_depths.end())
    return std::nullopt;
  return topic_ref{std::string(topic.substr(dot + 1)), book_kind, static_cast<std::size_t>(*depth)};
}

std::string_view str(const boost::json::string& s) { return {s.data(), s.size()}; }

std::string now_ms() { return std::to_string(wall_ms_as_ns() / 1'000'000); }

class bybit_protocol final : public protocol {
public:
  explicit bybit_protocol(const market& m) : m_(m) {}

  std::unique_ptr<connection_state> open(std::string_view path, const query_params&, actions&,
                                         http_reply& refusal) override {
    if (path != "/v5/public/spot") {
      refusal = {404, R"({"retCode":404,"retMsg":"no WebSocket endpoint at this path"})", {}};
      return nullptr;
    }
    auto c = std::make_unique<bybit_connection>();
    char buf[32];
    std::snprintf(buf, sizeof buf, "cejreaspqfh3sjdn%04u-p", connections_++ % 10000);
    c->conn_id = buf;
    return c;
  }

  void on_text(connection_state& cs, std::string_view text, actions& out) override {
    auto& c = static_cast<bybit_connection&>(cs);
    boost::system::error_code ec;
    auto v = boost::json::parse(boost::json::string_view(text.data(), text.size()), ec);
    if (ec || !v.is_object())
      return out.frames.push_back(reply(c, false, "Invalid request: not JSON", "", ""));
    const auto& o = v.get_object();
    std::string req_id;
    if (const auto* r = o.if_contains("req_id"); r && r->is_string())
      req_id = str(r->get_string());
    const auto* op = o.if_contains("op");
    if (!op || !op->is_string())
      return out.frames.push_back(reply(c, false, "Invalid request: missing op", req_id, ""));
    const std::string opname(str(op->get_string()));
    if (opname == "ping")
      return out.frames.push_back(reply(c, true, "pong", req_id, "ping"));
    if (opname != "subscribe" && opname != "unsubscribe")
      return out.frames.push_back(reply(c, false, "Invalid op: " + opname, req_id, opname));
    const auto* args = o.if_contains("args");
    if (!args || !args->is_array())
      return out.frames.push_back(reply(c, false, "Invalid args", req_id, opname));
    if (args->get_array().size() > bybit::max_args_per_request)
      return out.frames.push_back(reply(c, false, "args size >10", req_id, opname));
    const bool sub = opname == "subscribe";
    if (sub)
      ++out.subscribe_requests;
    // Valid topics subscribe even when others of the request are refused (the failure lists those).
    std::vector<std::string> invalid;
    std::vector<sub_key> keys;
    for (const auto& a : args->get_array()) {
      const std::string topic = a.is_string() ? std::string(str(a.get_string())) : boost::json::serialize(a);
      const auto ref = parse_topic(topic);
      const instrument* meta = ref ? m_.find(ref->symbol) : nullptr;
      if (!meta) {
        invalid.push_back(topic);
        continue;
      }
      keys.push_back({meta->symbol, ref->kind});
      if (ref->kind == book_kind && sub)
        c.books.insert_or_assign(meta->symbol, depth_view(ref->depth));
      else if (ref->kind == book_kind)
        c.books.erase(meta->symbol);
    }
    if (!invalid.empty()) {
      std::string msg = "Invalid topic :[";
      for (std::size_t i = 0; i < invalid.size(); ++i)
        msg += (i ? "," : "") + invalid[i];
      out.frames.push_back(reply(c, false, msg + "]", req_id, opname));
    } else {
      out.frames.push_back(reply(c, true, opname, req_id, opname));
    }
    auto& dest = sub ? out.subscribe : out.unsubscribe;
    dest.insert(dest.end(), keys.begin(), keys.end());
  }

  std::string trade_frame(connection_state&, const mi::trade& t, int) override { return bybit::encode_trade_frame(t); }

  std::string malformed_trade_frame(connection_state&, std::string_view symbol, int) override {
    const std::string s(symbol);
    return R"({"topic":"publicTrade.)" + s +
           R"(","ts":1,"type":"snapshot","data":[{"i":"1","T":1,"p":"not-a-price","v":"1","S":"Buy","s":")" + s +
           R"(","BT":false}]})";
  }

  bool supports_books() const override { return true; }

  std::optional<std::string> book_snapshot_frame(connection_state& cs, std::string_view symbol,
                                                 const sim_book& b) override {
    auto* view = view_of(cs, symbol);
    if (view == nullptr)
      return std::nullopt;
    return book_frame("snapshot", symbol, view->depth(), b.update_id(), view->snapshot(b));
  }

  std::string book_update_frame(connection_state& cs, std::string_view symbol, const sim_book& b,
                                const sim_book_update& u, bool) override {
    auto* view = view_of(cs, symbol);
    if (view == nullptr) // never subscribed on this connection (the simulator only sends to subscribers)
      return {};
    return book_frame("delta", symbol, view->depth(), u.id, view->update(b, u));
  }

  std::optional<http_reply> rest(std::string_view path, const query_params& q) override {
    const bool instruments = path == "/v5/market/instruments-info";
    if (!instruments && path != "/v5/market/recent-trade")
      return std::nullopt;
    auto cat = q.find("category");
    if (cat == q.end() || cat->second != "spot")
      return http_reply{200,
                        R"({"retCode":10001,"retMsg":"Illegal category","result":{},"retExtInfo":{},"time":)" +
                          now_ms() + "}",
                        {}};
    std::string body = R"({"retCode":0,"retMsg":"OK","result":{"category":"spot","list":[)";
    if (instruments) {
      bool first = true;
      for (const auto& i : m_.listed()) {
        if (!first)
          body += ',';
        first = false;
        body += R"({"symbol":")" + i.symbol + R"(","baseCoin":")" + i.base + R"(","quoteCoin":")" + i.quote +
                R"(","status":"Trading"})";
      }
    } else {
      auto sym = q.find("symbol");
      const instrument* meta = sym == q.end() ? nullptr : m_.find(sym->second);
      if (!meta)
        return http_reply{200,
                          R"({"retCode":10001,"retMsg":"Not supported symbols","result":{},"retExtInfo":{},"time":)" +
                            now_ms() + "}",
                          {}};
      std::size_t limit = 1;
      if (auto l = q.find("limit"); l != q.end()) {
        auto n = parse_uint(l->second);
        if (!n)
          return http_reply{200,
                            R"({"retCode":10001,"retMsg":"Illegal limit","result":{},"retExtInfo":{},"time":)" +
                              now_ms() + "}",
                            {}};
        limit = static_cast<std::size_t>(std::clamp<std::uint64_t>(*n, 1, 60));
      }
      const auto trades = m_.newest(meta->symbol, limit);
      for (auto it = trades.rbegin(); it != trades.rend(); ++it) { // newest first
        if (it != trades.rbegin())
          body += ',';
        body += R"({"execId":")" + it->trade_id + R"(","symbol":")" + it->symbol + R"(","price":")" +
                it->price.to_string() + R"(","size":")" + it->quantity.to_string() + R"(","side":")" +
                (it->taker_side == mi::side::sell ? "Sell" : "Buy") + R"(","time":")" +
                std::to_string(it->ts_ns / 1'000'000) + R"(","isBlockTrade":false})";
      }
    }
    body += R"(]},"retExtInfo":{},"time":)" + now_ms() + "}";
    return http_reply{200, std::move(body), {}};
  }

private:
  static depth_view* view_of(connection_state& cs, std::string_view symbol) {
    auto& c = static_cast<bybit_connection&>(cs);
    auto it = c.books.find(symbol);
    return it == c.books.end() ? nullptr : &it->second;
  }

  // {"topic":"orderbook.50.BTCUSDT","type":"snapshot|delta","ts":ms,"data":{"s":..,"b":[[p,q]],"a":[..],"u":N,
  // "seq":N},"cts":ms}: bids and asks as text, size "0" removes a level.
  static std::string book_frame(std::string_view type, std::string_view symbol, std::size_t depth, std::uint64_t u,
                                const std::vector<sim_level>& levels) {
    const std::string ms = now_ms();
    std::string out = R"({"topic":"orderbook.)" + std::to_string(depth) + "." + std::string(symbol) + R"(","type":")" +
                      std::string(type) + R"(","ts":)" + ms + R"(,"data":{"s":")" + std::string(symbol) + '"';
    for (auto s : {mi::book::side::bid, mi::book::side::ask}) {
      out += s == mi::book::side::bid ? R"(,"b":[)" : R"(,"a":[)";
      append_side(out, levels, s, text_pair);
      out += ']';
    }
    out += R"(,"u":)" + std::to_string(u) + R"(,"seq":)" + std::to_string(u) + R"(},"cts":)" + ms + "}";
    return out;
  }

  static std::string reply(const bybit_connection& c, bool success, std::string_view msg, std::string_view req_id,
                           std::string_view op) {
    std::string out = std::string("{\"success\":") + (success ? "true" : "false") + ",\"ret_msg\":";
    append_json_string(out, msg);
    out += ",\"conn_id\":\"" + c.conn_id + "\",\"req_id\":";
    append_json_string(out, req_id);
    out += ",\"op\":";
    append_json_string(out, op);
    out += '}';
    return out;
  }

  const market& m_;
  unsigned connections_ = 0;
};

} // namespace

std::unique_ptr<protocol> make_bybit_protocol(const market& m) { return std::make_unique<bybit_protocol>(m); }

} // namespace mi::sim
