// Binance spot, server side: /ws, /ws/<stream>..., /stream[?streams=a/b] with SUBSCRIBE / UNSUBSCRIBE /
// LIST_SUBSCRIPTIONS, serverShutdown notices, and the REST endpoints exchangeInfo, ping, time,
// historicalTrades and aggTrades.
#include <algorithm>
#include <set>

#include "connectors/binance/codec.hpp"
#include "messages/book/order_book.hpp"
#include "connectors/json_text.hpp"
#include "simulator/generator.hpp"
#include "simulator/protocols/protocol.hpp"
#include "simulator/requests.hpp"

namespace mi::sim {
namespace {

using connectors::text::append_json_string;

constexpr binance::stream_kind kinds[2] = {binance::stream_kind::trade, binance::stream_kind::agg_trade};

int kind_index(binance::stream_kind k) { return k == binance::stream_kind::trade ? 0 : 1; }

struct binance_connection : connection_state {
  bool combined = false;         ///< /stream: frames wrapped as {"stream":..,"data":..}
  std::set<std::string> streams; ///< subscribed stream names, as the client spelled them
};

/// An optional unsigned integer parameter: true when absent (out untouched) or well-formed.
bool read_uint(const query_params& q, std::string_view key, std::optional<std::uint64_t>& out) {
  auto it = q.find(key);
  if (it == q.end())
    return true;
  out = parse_uint(it->second);
  return out.has_value();
}

http_reply error_reply(unsigned status, int code, std::string_view msg) {
  std::string body = "{\"code\":" + std::to_string(code) + ",\"msg\":";
  append_json_string(body, msg);
  body += '}';
  return {status, std::move(body), {}};
}

class binance_protocol final : public protocol {
public:
  explicit binance_protocol(const market& m) : m_(m) { exchange_info_ = binance::encode_exchange_info(m.listed()); }

  std::unique_ptr<connection_state> open(std::string_view path, const query_params& q, actions& initial,
                                         http_reply& refusal) override {
    auto c = std::make_unique<binance_connection>();
    std::vector<std::string> streams;
    auto split = [&streams](std::string_view list) {
      while (!list.empty()) {
        const auto slash = list.find('/');
        const auto name = list.substr(0, slash);
        if (!name.empty())
          streams.emplace_back(name);
        if (slash == std::string_view::npos)
          break;
        list.remove_prefix(slash + 1);
      }
    };
    if (path == "/ws") {
    } else if (path.rfind("/ws/", 0) == 0) {
      split(path.substr(4));
    } else if (path == "/stream") {
      c->combined = true;
      if (auto it = q.find("streams"); it != q.end())
        split(it->second);
    } else {
      refusal = error_reply(404, -1, "no WebSocket endpoint at this path");
      return nullptr;
    }
    for (const auto& s : streams)
      if (!parse_stream_name(s)) {
        refusal = error_reply(400, 2, "Invalid request: invalid stream name");
        return nullptr;
      }
    if (!streams.empty()) {
      ++initial.subscribe_requests;
      subscribe(*c, streams, initial);
    }
    return c;
  }

  void on_text(connection_state& cs, std::string_view text, actions& out) override {
    auto& c = static_cast<binance_connection&>(cs);
    auto parsed = parse_control_request(text);
    if (auto* err = std::get_if<control_error>(&parsed))
      return out.frames.push_back(error_frame(*err));
    auto& req = std::get<control_request>(parsed);
    switch (req.what) {
    case control_request::method::subscribe: {
      ++out.subscribe_requests;
      // Streams of a rejected symbol are refused; the others of the request still subscribe.
      std::vector<std::string> refused;
      for (const auto& name : req.params)
        if (auto ref = parse_stream_name(name); ref && m_.rejected(ref->symbol))
          refused.push_back(name);
      if (!refused.empty())
        out.frames.push_back(
          error_frame({2, "Invalid request: invalid symbol in stream `" + refused[0] + "`", req.id}));
      else
        out.frames.push_back(ack_frame(req.id)); // the ack goes out before any trade of these streams
      std::vector<std::string> wanted;
      for (auto& name : req.params)
        if (std::find(refused.begin(), refused.end(), name) == refused.end())
          wanted.push_back(std::move(name));
      subscribe(c, wanted, out);
      break;
    }
    case control_request::method::unsubscribe:
      for (const auto& name : req.params) {
        auto ref = parse_stream_name(name);
        if (!ref || !c.streams.erase(name))
          continue;
        if (ref->kind)
          out.unsubscribe.push_back({ref->symbol, kind_index(*ref->kind)});
        else if (ref->depth)
          out.unsubscribe.push_back({ref->symbol, book_kind});
      }
      out.frames.push_back(ack_frame(req.id));
      break;
    case control_request::method::list_subscriptions:
      out.frames.push_back(list_frame({c.streams.begin(), c.streams.end()}, req.id));
      break;
    }
  }

  std::string trade_frame(connection_state& cs, const mi::trade& t, int kind) override {
    return binance::encode_trade_frame(t, kinds[kind], static_cast<binance_connection&>(cs).combined);
  }

  std::string malformed_trade_frame(connection_state& cs, std::string_view symbol, int kind) override {
    // A trade frame whose price is not a number: a client must reject it and go on.
    const std::string data = R"({"e":"trade","E":1,"s":")" + std::string(symbol) +
                             R"(","t":1,"p":"not-a-price","q":"1","T":1,"m":true,"M":true})";
    if (!static_cast<binance_connection&>(cs).combined)
      return data;
    return R"({"stream":")" + binance::stream_name(symbol, kinds[kind]) + R"(","data":)" + data + "}";
  }

  bool supports_books() const override { return true; }

  // {"e":"depthUpdate","E":ms,"s":"BTCUSDT","U":id,"u":id,"b":[..],"a":[..]}: one update per event, so U = u.
  std::string book_update_frame(connection_state& cs, std::string_view symbol, const sim_book&,
                                const sim_book_update& u, bool) override {
    std::string data = R"({"e":"depthUpdate","E":)" + std::to_string(wall_ms_as_ns() / 1'000'000) + R"(,"s":")" +
                       std::string(symbol) + R"(","U":)" + std::to_string(u.id) + R"(,"u":)" + std::to_string(u.id);
    for (auto s : {mi::book::side::bid, mi::book::side::ask}) {
      data += s == mi::book::side::bid ? R"(,"b":[)" : R"(,"a":[)";
      append_side(data, u.changes, s, text_pair);
      data += ']';
    }
    data += '}';
    if (!static_cast<binance_connection&>(cs).combined)
      return data;
    std::string name;
    for (char c : symbol)
      name += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    return R"({"stream":")" + name + R"(@depth@100ms","data":)" + data + "}";
  }

  bool supports_notice() const override { return true; }

  std::optional<std::string> notice(connection_state& cs) override {
    const std::string data = "{\"e\":\"serverShutdown\",\"E\":" + std::to_string(wall_ms_as_ns() / 1'000'000) + "}";
    if (!static_cast<binance_connection&>(cs).combined)
      return data;
    return R"({"stream":"serverShutdown","data":)" + data + "}";
  }

  std::optional<http_reply> rest(std::string_view path, const query_params& q) override {
    if (path == "/api/v3/exchangeInfo")
      return http_reply{200, exchange_info_, {}};
    if (path == "/api/v3/ping")
      return http_reply{200, "{}", {}};
    if (path == "/api/v3/time")
      return http_reply{200, "{\"serverTime\":" + std::to_string(wall_ms_as_ns() / 1'000'000) + "}", {}};
    if (path == "/api/v3/depth")
      return depth(q);
    const bool historical = path == "/api/v3/historicalTrades";
    if (!historical && path != "/api/v3/aggTrades")
      return std::nullopt;

    auto sym = q.find("symbol");
    if (sym == q.end())
      return error_reply(400, -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.");
    if (!m_.find(sym->second))
      return error_reply(400, -1121, "Invalid symbol.");
    std::optional<std::uint64_t> from_id, limit;
    if (!read_uint(q, "fromId", from_id))
      return error_reply(400, -1100, "Illegal characters found in parameter 'fromId'.");
    if (!read_uint(q, "limit", limit))
      return error_reply(400, -1100, "Illegal characters found in parameter 'limit'.");
    const std::size_t n = std::clamp<std::uint64_t>(limit.value_or(500), 1, 1000);
    const auto trades = from_id ? m_.from_id(sym->second, *from_id, n) : m_.newest(sym->second, n);

    std::string body = "[";
    for (const auto& t : trades) {
      if (body.size() > 1)
        body += ',';
      const bool buyer_maker = t.taker_side == mi::side::sell;
      if (historical) {
        const auto quote_qty = t.price.checked_mul(t.quantity);
        body += "{\"id\":" + t.trade_id + ",\"price\":\"" + t.price.to_string() + "\",\"qty\":\"" +
                t.quantity.to_string() + "\",\"quoteQty\":\"" + (quote_qty ? quote_qty->to_string() : "0") +
                "\",\"time\":" + std::to_string(t.ts_ns / 1'000'000) +
                ",\"isBuyerMaker\":" + (buyer_maker ? "true" : "false") + ",\"isBestMatch\":true}";
      } else {
        body += "{\"a\":" + t.trade_id + ",\"p\":\"" + t.price.to_string() + "\",\"q\":\"" + t.quantity.to_string() +
                "\",\"f\":" + t.trade_id + ",\"l\":" + t.trade_id + ",\"T\":" + std::to_string(t.ts_ns / 1'000'000) +
                ",\"m\":" + (buyer_maker ? "true" : "false") + ",\"M\":true}";
      }
    }
    body += ']';
    return http_reply{200, std::move(body), {}};
  }

private:
  // GET /api/v3/depth?symbol=X&limit=N: {"lastUpdateId":N,"bids":[["p","q"],..],"asks":[..]} (the stale-snapshot
  // fault serves an older copy of the book).
  http_reply depth(const query_params& q) {
    auto sym = q.find("symbol");
    if (sym == q.end())
      return error_reply(400, -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.");
    const auto* b = m_.find_book(sym->second);
    if (!m_.find(sym->second))
      return error_reply(400, -1121, "Invalid symbol.");
    std::optional<std::uint64_t> limit;
    if (!read_uint(q, "limit", limit))
      return error_reply(400, -1100, "Illegal characters found in parameter 'limit'.");
    const std::size_t n = std::clamp<std::uint64_t>(limit.value_or(100), 1, 5000);
    if (b == nullptr) // nobody subscribed its depth yet: an empty book at update 0
      return http_reply{200, R"({"lastUpdateId":0,"bids":[],"asks":[]})", {}};
    const bool stale = m_.take_stale_book_snapshot();
    const auto& book = stale ? b->stale_book() : b->book();
    std::string body = "{\"lastUpdateId\":" + std::to_string(stale ? b->stale_update_id() : b->update_id());
    for (auto s : {mi::book::side::bid, mi::book::side::ask}) {
      body += s == mi::book::side::bid ? ",\"bids\":[" : ",\"asks\":[";
      std::size_t i = 0;
      for (const auto& [price, l] : book.levels(s)) {
        if (i++ == n)
          break;
        if (i > 1)
          body += ',';
        body += "[\"" + l.price_text + "\",\"" + l.qty_text + "\"]";
      }
      body += ']';
    }
    body += '}';
    return http_reply{200, std::move(body), {}};
  }

  void subscribe(binance_connection& c, const std::vector<std::string>& names, actions& out) {
    for (const auto& name : names) {
      auto ref = parse_stream_name(name);
      if (!ref || !c.streams.insert(name).second)
        continue;
      if (ref->kind)
        out.subscribe.push_back({ref->symbol, kind_index(*ref->kind)});
      else if (ref->depth)
        out.subscribe.push_back({ref->symbol, book_kind});
    }
  }

  const market& m_;
  std::string exchange_info_;
};

} // namespace

std::unique_ptr<protocol> make_binance_protocol(const market& m) { return std::make_unique<binance_protocol>(m); }

} // namespace mi::sim
