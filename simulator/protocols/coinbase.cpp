// Coinbase, server side: the Advanced Trade WebSocket (/ and /ws) with market_trades, heartbeats and level2
// subscriptions (l2_data: a snapshot event on subscribe, then update events), sequence_num over every message of a
// connection; the Exchange REST API /products and /products/<id>/trades (newest first, `after` pages backwards,
// CB-AFTER header). No notice exists.
#include <algorithm>
#include <set>

#include <boost/json.hpp>

#include "connectors/coinbase/codec.hpp"
#include "connectors/coinbase/instruments.hpp"
#include "connectors/json_text.hpp"
#include "simulator/protocols/protocol.hpp"

namespace mi::sim {
namespace {

using connectors::text::append_json_string;
using connectors::text::append_json_string_array;

struct coinbase_connection : connection_state {
  std::int64_t sequence = 0;           ///< sequence_num of the next message
  std::set<std::string> market_trades; ///< product ids
  std::set<std::string> level2;        ///< product ids
  std::set<std::string> heartbeats;    ///< product ids given with the heartbeats channel
  bool heartbeats_on = false;
  std::uint64_t heartbeat_counter = 0;
};

std::string_view str(const boost::json::string& s) { return {s.data(), s.size()}; }

std::string product_id(const instrument& i) { return i.base + "-" + i.quote; }

std::string error_frame(std::string_view message) {
  std::string out = R"({"type":"error","message":)";
  append_json_string(out, message);
  out += '}';
  return out;
}

class coinbase_protocol final : public protocol {
public:
  explicit coinbase_protocol(const market& m) : m_(m) {}

  std::unique_ptr<connection_state> open(std::string_view path, const query_params&, actions&,
                                         http_reply& refusal) override {
    if (path != "/" && path != "/ws") {
      refusal = {404, R"({"message":"NotFound"})", {}};
      return nullptr;
    }
    return std::make_unique<coinbase_connection>();
  }

  void on_text(connection_state& cs, std::string_view text, actions& out) override {
    auto& c = static_cast<coinbase_connection&>(cs);
    boost::system::error_code ec;
    auto v = boost::json::parse(boost::json::string_view(text.data(), text.size()), ec);
    if (ec || !v.is_object())
      return out.frames.push_back(error_frame("failure to parse JSON"));
    const auto& o = v.get_object();
    const auto* type = o.if_contains("type");
    if (!type || !type->is_string())
      return out.frames.push_back(error_frame("type is required"));
    const std::string t(str(type->get_string()));
    if (t != "subscribe" && t != "unsubscribe")
      return out.frames.push_back(error_frame("unknown type " + t));
    const bool sub = t == "subscribe";
    const auto* channel = o.if_contains("channel");
    if (!channel || !channel->is_string())
      return out.frames.push_back(error_frame("Failed to subscribe: channel is required"));
    const std::string ch(str(channel->get_string()));
    std::vector<std::string> ids;
    if (const auto* p = o.if_contains("product_ids"); p && p->is_array()) {
      for (const auto& x : p->get_array()) {
        if (!x.is_string())
          return out.frames.push_back(error_frame("Failed to subscribe: Invalid product ID provided"));
        ids.emplace_back(str(x.get_string()));
      }
    } else if (o.if_contains("product_ids")) {
      return out.frames.push_back(error_frame("Failed to subscribe: product_ids must be an array"));
    }
    if (ch == "heartbeats") {
      if (sub)
        ++out.subscribe_requests;
      c.heartbeats_on = sub;
      if (sub)
        c.heartbeats.insert(ids.begin(), ids.end());
      else
        c.heartbeats.clear();
      return out.frames.push_back(subscriptions(c));
    }
    if (ch != "market_trades" && ch != "level2")
      return out.frames.push_back(error_frame("Failed to subscribe: unsupported channel " + ch));
    const bool book = ch == "level2";
    auto& products = book ? c.level2 : c.market_trades;
    if (ids.empty())
      return out.frames.push_back(error_frame("Failed to subscribe: Invalid product ID provided"));
    std::vector<const instrument*> metas;
    for (const auto& id : ids) {
      auto parsed = coinbase::from_product_id(id);
      const instrument* meta = parsed ? m_.find(parsed->symbol) : nullptr;
      if (!meta || product_id(*meta) != id)
        return out.frames.push_back(error_frame("Failed to subscribe: Invalid product ID provided"));
      metas.push_back(meta);
    }
    if (sub)
      ++out.subscribe_requests;
    for (const auto* meta : metas) {
      if (sub)
        products.insert(product_id(*meta));
      else
        products.erase(product_id(*meta));
      (sub ? out.subscribe : out.unsubscribe).push_back({meta->symbol, book ? book_kind : 0});
    }
    out.frames.push_back(subscriptions(c));
  }

  std::string trade_frame(connection_state& cs, const mi::trade& t, int) override {
    return coinbase::encode_trade_frame(t, static_cast<coinbase_connection&>(cs).sequence++);
  }

  std::string malformed_trade_frame(connection_state& cs, std::string_view symbol, int) override {
    const auto* meta = m_.find(symbol);
    const std::string id = meta ? product_id(*meta) : std::string(symbol);
    return R"({"channel":"market_trades","client_id":"","timestamp":")" + rfc3339_micros(wall_ns()) +
           R"(","sequence_num":)" + std::to_string(static_cast<coinbase_connection&>(cs).sequence++) +
           R"(,"events":[{"type":"update","trades":[{"trade_id":"1","product_id":")" + id +
           R"(","price":"not-a-price","size":"1","side":"BUY","time":"2026-01-01T00:00:00Z"}]}]})";
  }

  std::optional<std::string> heartbeat(connection_state& cs) override {
    auto& c = static_cast<coinbase_connection&>(cs);
    if (!c.heartbeats_on)
      return std::nullopt;
    const auto now = rfc3339_micros(wall_ns());
    return R"({"channel":"heartbeats","client_id":"","timestamp":")" + now + R"(","sequence_num":)" +
           std::to_string(c.sequence++) + R"(,"events":[{"current_time":")" + now + R"(","heartbeat_counter":)" +
           std::to_string(++c.heartbeat_counter) + "}]}";
  }

  std::int64_t time_resolution_ns() const override { return 1000; }

  bool supports_books() const override { return true; }

  // level2: every level of the book in a snapshot event on subscribe, then each update's changes; the messages are
  // numbered with the connection's other messages.
  std::optional<std::string> book_snapshot_frame(connection_state& cs, std::string_view symbol,
                                                 const sim_book& b) override {
    std::vector<sim_level> levels;
    for (auto s : {mi::book::side::bid, mi::book::side::ask})
      for (const auto& [price, l] : b.book().levels(s))
        levels.push_back({s, l.price_text, l.qty_text});
    return l2_frame(static_cast<coinbase_connection&>(cs), symbol, "snapshot", levels);
  }

  std::string book_update_frame(connection_state& cs, std::string_view symbol, const sim_book&,
                                const sim_book_update& u, bool) override {
    return l2_frame(static_cast<coinbase_connection&>(cs), symbol, "update", u.changes);
  }

  void book_update_lost(connection_state& cs, std::string_view) override {
    ++static_cast<coinbase_connection&>(cs).sequence; // the lost message's number: the client sees the gap
  }

  std::optional<http_reply> rest(std::string_view path, const query_params& q) override {
    if (path == "/products") {
      std::string body = "[";
      for (const auto& i : m_.listed()) {
        if (body.size() > 1)
          body += ',';
        body += R"({"id":")" + product_id(i) + R"(","base_currency":")" + i.base + R"(","quote_currency":")" + i.quote +
                R"(","status":"online"})";
      }
      body += ']';
      return http_reply{200, std::move(body), {}};
    }
    constexpr std::string_view prefix = "/products/";
    constexpr std::string_view suffix = "/trades";
    if (path.rfind(prefix, 0) != 0 || path.size() <= prefix.size() + suffix.size() ||
        path.substr(path.size() - suffix.size()) != suffix)
      return std::nullopt;
    const std::string id(path.substr(prefix.size(), path.size() - prefix.size() - suffix.size()));
    auto parsed = coinbase::from_product_id(id);
    const instrument* meta = parsed ? m_.find(parsed->symbol) : nullptr;
    if (!meta || product_id(*meta) != id)
      return http_reply{404, R"({"message":"NotFound"})", {}};
    std::size_t limit = 1000;
    if (auto l = q.find("limit"); l != q.end()) {
      auto n = parse_uint(l->second);
      if (!n)
        return http_reply{400, R"({"message":"Invalid limit"})", {}};
      limit = static_cast<std::size_t>(std::clamp<std::uint64_t>(*n, 1, 1000));
    }
    std::vector<mi::trade> trades;
    if (auto a = q.find("after"); a != q.end()) {
      auto after = parse_uint(a->second);
      if (!after)
        return http_reply{400, R"({"message":"Invalid after"})", {}};
      trades = m_.before_id(meta->symbol, *after, limit);
    } else {
      trades = m_.newest(meta->symbol, limit);
    }
    http_reply r;
    r.body = "[";
    for (auto it = trades.rbegin(); it != trades.rend(); ++it) { // newest first
      if (it != trades.rbegin())
        r.body += ',';
      // side is the maker's: the opposite of the taker side
      r.body += R"({"time":")" + rfc3339_micros(it->ts_ns) + R"(","trade_id":)" + it->trade_id + R"(,"price":")" +
                it->price.to_string() + R"(","size":")" + it->quantity.to_string() + R"(","side":")" +
                (it->taker_side == mi::side::buy ? "sell" : "buy") + "\"}";
    }
    r.body += ']';
    if (!trades.empty())
      r.headers.emplace_back("CB-AFTER", trades.front().trade_id);
    return r;
  }

private:
  // {"channel":"l2_data","client_id":"","timestamp":T,"sequence_num":N,"events":[{"type":"snapshot"|"update",
  // "product_id":"BTC-USD","updates":[{"side":"bid"|"offer","event_time":T,"price_level":P,"new_quantity":Q},..]}]}
  std::string l2_frame(coinbase_connection& c, std::string_view symbol, std::string_view type,
                       const std::vector<sim_level>& levels) {
    const auto* meta = m_.find(symbol);
    const std::string id = meta ? product_id(*meta) : std::string(symbol);
    const auto now = rfc3339_micros(wall_ns());
    std::string out = R"({"channel":"l2_data","client_id":"","timestamp":")" + now + R"(","sequence_num":)" +
                      std::to_string(c.sequence++) + R"(,"events":[{"type":")" + std::string(type) +
                      R"(","product_id":")" + id + R"(","updates":[)";
    bool first = true;
    for (const auto& l : levels) {
      if (!first)
        out += ',';
      first = false;
      out += R"({"side":")";
      out += l.side == mi::book::side::bid ? "bid" : "offer";
      out += R"(","event_time":")" + now + R"(","price_level":")" + l.price + R"(","new_quantity":")" + l.qty + "\"}";
    }
    out += "]}]}";
    return out;
  }

  std::string subscriptions(coinbase_connection& c) {
    std::string out = R"({"channel":"subscriptions","client_id":"","timestamp":")" + rfc3339_micros(wall_ns()) +
                      R"(","sequence_num":)" + std::to_string(c.sequence++) + R"(,"events":[{"subscriptions":{)";
    bool first = true;
    if (!c.market_trades.empty()) {
      out += "\"market_trades\":";
      append_json_string_array(out, {c.market_trades.begin(), c.market_trades.end()});
      first = false;
    }
    if (!c.level2.empty()) {
      if (!first)
        out += ',';
      out += "\"level2\":";
      append_json_string_array(out, {c.level2.begin(), c.level2.end()});
      first = false;
    }
    if (c.heartbeats_on) {
      if (!first)
        out += ',';
      out += "\"heartbeats\":";
      append_json_string_array(out, {c.heartbeats.begin(), c.heartbeats.end()});
    }
    out += "}}]}";
    return out;
  }

  const market& m_;
};

} // namespace

std::unique_ptr<protocol> make_coinbase_protocol(const market& m) { return std::make_unique<coinbase_protocol>(m); }

} // namespace mi::sim
