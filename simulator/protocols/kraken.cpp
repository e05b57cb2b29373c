// Kraken, server side: WebSocket v2 (/v2) with the status greeting, per-symbol subscribe acks, ping/pong and
// 1 s heartbeats; REST /0/public/AssetPairs and /0/public/Trades (oldest first from `since`, in ns).
// Kraken has no forced-disconnect notice. Books: channel `book` at depth 10, 25, 100, 500 or 1000, a snapshot on
// subscribe, then updates with the CRC32 checksum of the top 10 levels; prices and quantities as JSON numbers with
// trailing zeros (2 and 8 decimals), as Kraken sends them, so a client that reformats them breaks the checksum.
#include <algorithm>
#include <array>
#include <cstdio>
#include <map>

#include <boost/json.hpp>

#include "connectors/json_text.hpp"
#include "connectors/kraken/book.hpp"
#include "connectors/kraken/codec.hpp"
#include "connectors/kraken/instruments.hpp"
#include "simulator/protocols/protocol.hpp"

namespace mi::sim {
namespace {

using connectors::text::append_json_string;

struct kraken_connection : connection_state {
  std::size_t subscriptions = 0;                        ///< trade subscriptions; heartbeats flow while > 0
  std::map<std::string, depth_view, std::less<>> books; ///< by symbol: the subscribed depth's view
};

/// Kraken's book depths.
constexpr std::array<std::uint64_t, 5> book_depths{10, 25, 100, 500, 1000};

/// `text` (a canonical decimal) with exactly `places` decimals: "99.5" -> "99.50", "0.012" -> "0.01200000".
std::string fixed(std::string_view text, std::size_t places) {
  std::string out(text);
  const auto dot = out.find('.');
  const std::size_t have = dot == std::string::npos ? 0 : out.size() - dot - 1;
  if (dot == std::string::npos)
    out += '.';
  out.append(places > have ? places - have : 0, '0');
  return out;
}

std::string_view str(const boost::json::string& s) { return {s.data(), s.size()}; }

/// REST names of a pair: BTC/USD is XXBTZUSD / XBTUSD / XBT/USD (base XXBT, quote ZUSD); any other pair
/// uses its v1 asset names: key = altname = BASEQUOTE, wsname BASE/QUOTE.
struct rest_names {
  std::string key, altname, wsname, base, quote;
};

rest_names names_of(const instrument& i) {
  const std::string base(kraken::v1_asset(i.base));
  rest_names n{base + i.quote, base + i.quote, base + "/" + i.quote, base, i.quote};
  if (i.base == "BTC" && i.quote == "USD")
    n = {"XXBTZUSD", "XBTUSD", "XBT/USD", "XXBT", "ZUSD"};
  return n;
}

std::string v2_pair(const instrument& i) { return i.base + "/" + i.quote; }

class kraken_protocol final : public protocol {
public:
  explicit kraken_protocol(const market& m) : m_(m) {}

  std::unique_ptr<connection_state> open(std::string_view path, const query_params&, actions& initial,
                                         http_reply& refusal) override {
    if (path != "/v2" && path != "/") {
      refusal = {404, R"({"error":["EGeneral:Unknown method"]})", {}};
      return nullptr;
    }
    initial.frames.push_back(
      R"({"channel":"status","type":"update","data":[{"version":"2.0.0","system":"online","api_version":"v2","connection_id":)" +
      std::to_string(++connections_) + R"(,"timestamp":")" + rfc3339_micros(wall_ns()) + "\"}]}");
    return std::make_unique<kraken_connection>();
  }

  void on_text(connection_state& cs, std::string_view text, actions& out) override {
    auto& c = static_cast<kraken_connection&>(cs);
    const std::string time_in = rfc3339_micros(wall_ns());
    boost::system::error_code ec;
    auto v = boost::json::parse(boost::json::string_view(text.data(), text.size()), ec);
    if (ec || !v.is_object())
      return out.frames.push_back(error("Malformed request", "", nullptr, time_in, ""));
    const auto& o = v.get_object();
    const boost::json::value* req_id = o.if_contains("req_id");
    if (req_id && !req_id->is_int64() && !req_id->is_uint64())
      req_id = nullptr;
    const auto* method = o.if_contains("method");
    if (!method || !method->is_string())
      return out.frames.push_back(error("Missing method", "", req_id, time_in, ""));
    const std::string m(str(method->get_string()));
    if (m == "ping") {
      std::string pong = R"({"method":"pong")";
      if (req_id)
        pong += ",\"req_id\":" + boost::json::serialize(*req_id);
      pong += R"(,"time_in":")" + time_in + R"(","time_out":")" + rfc3339_micros(wall_ns()) + "\"}";
      return out.frames.push_back(std::move(pong));
    }
    if (m != "subscribe" && m != "unsubscribe")
      return out.frames.push_back(error("Method not found", m, req_id, time_in, ""));
    const bool sub = m == "subscribe";
    const auto* params = o.if_contains("params");
    const auto* po = params ? params->if_object() : nullptr;
    const auto* channel = po ? po->if_contains("channel") : nullptr;
    const auto* symbols = po ? po->if_contains("symbol") : nullptr;
    if (!channel || !channel->is_string())
      return out.frames.push_back(error("Missing channel", m, req_id, time_in, ""));
    const std::string channel_name(str(channel->get_string()));
    const bool book = channel_name == "book";
    if (channel_name != "trade" && !book)
      return out.frames.push_back(error("Channel not supported " + channel_name, m, req_id, time_in, ""));
    std::uint64_t depth = 10;
    if (const auto* d = book ? po->if_contains("depth") : nullptr) {
      const auto n = d->is_int64() ? static_cast<std::uint64_t>(std::max<std::int64_t>(d->get_int64(), 0)) : 0;
      if (std::find(book_depths.begin(), book_depths.end(), n) == book_depths.end())
        return out.frames.push_back(error("Invalid depth", m, req_id, time_in, ""));
      depth = n;
    }
    if (!symbols || !symbols->is_array() || symbols->get_array().empty())
      return out.frames.push_back(error("Missing symbol", m, req_id, time_in, ""));
    if (sub)
      ++out.subscribe_requests;
    for (const auto& s : symbols->get_array()) {
      if (!s.is_string()) {
        out.frames.push_back(error("Symbol must be a string", m, req_id, time_in, ""));
        continue;
      }
      const std::string pair(str(s.get_string()));
      auto parsed = kraken::from_wire(pair);
      const instrument* meta = parsed ? m_.find(parsed->symbol) : nullptr;
      if (!meta || v2_pair(*meta) != pair) {
        out.frames.push_back(error("Currency pair not supported " + pair, m, req_id, time_in, pair));
        continue;
      }
      std::string ack = R"({"method":")" + m + R"(","result":{"channel":")" + channel_name + '"';
      if (book)
        ack += ",\"depth\":" + std::to_string(depth);
      ack += ",\"symbol\":";
      append_json_string(ack, pair);
      ack += std::string(sub ? R"(,"snapshot":true)" : "") + R"(},"success":true)";
      if (req_id)
        ack += ",\"req_id\":" + boost::json::serialize(*req_id);
      ack += R"(,"time_in":")" + time_in + R"(","time_out":")" + rfc3339_micros(wall_ns()) + "\"}";
      out.frames.push_back(std::move(ack));
      if (book) {
        if (sub)
          c.books.insert_or_assign(meta->symbol, depth_view(depth));
        else
          c.books.erase(meta->symbol);
      } else if (sub) {
        ++c.subscriptions;
      } else if (c.subscriptions > 0) {
        --c.subscriptions;
      }
      (sub ? out.subscribe : out.unsubscribe).push_back({meta->symbol, book ? book_kind : 0});
    }
  }

  std::string trade_frame(connection_state&, const mi::trade& t, int) override { return kraken::encode_trade_frame(t); }

  std::string malformed_trade_frame(connection_state&, std::string_view symbol, int) override {
    const auto* meta = m_.find(symbol);
    const std::string pair = meta ? v2_pair(*meta) : std::string(symbol);
    return R"({"channel":"trade","type":"update","data":[{"symbol":")" + pair +
           R"(","side":"buy","price":"not-a-price","qty":1,"ord_type":"market","trade_id":1,"timestamp":"2026-01-01T00:00:00Z"}]})";
  }

  std::optional<std::string> heartbeat(connection_state& cs) override {
    if (static_cast<kraken_connection&>(cs).subscriptions == 0)
      return std::nullopt;
    return std::string(R"({"channel":"heartbeat"})");
  }

  std::int64_t time_resolution_ns() const override { return 1000; }

  bool supports_books() const override { return true; }

  std::optional<std::string> book_snapshot_frame(connection_state& cs, std::string_view symbol,
                                                 const sim_book& b) override {
    auto* view = view_of(cs, symbol);
    if (view == nullptr)
      return std::nullopt;
    return book_frame("snapshot", symbol, view->snapshot(b), b, false);
  }

  std::string book_update_frame(connection_state& cs, std::string_view symbol, const sim_book& b,
                                const sim_book_update& u, bool corrupt_checksum) override {
    auto* view = view_of(cs, symbol);
    if (view == nullptr) // never subscribed on this connection (the simulator only sends to subscribers)
      return {};
    return book_frame("update", symbol, view->update(b, u), b, corrupt_checksum);
  }

  std::optional<http_reply> rest(std::string_view path, const query_params& q) override {
    if (path == "/0/public/AssetPairs") {
      std::string body = R"({"error":[],"result":{)";
      bool first = true;
      for (const auto& i : m_.listed()) {
        const auto n = names_of(i);
        if (!first)
          body += ',';
        first = false;
        body += "\"" + n.key + R"(":{"altname":")" + n.altname + R"(","wsname":")" + n.wsname + R"(","base":")" +
                n.base + R"(","quote":")" + n.quote + R"(","status":"online"})";
      }
      body += "}}";
      return http_reply{200, std::move(body), {}};
    }
    if (path != "/0/public/Trades")
      return std::nullopt;
    const instrument* meta = nullptr;
    if (auto p = q.find("pair"); p != q.end())
      for (const auto& i : m_.listed())
        if (names_of(i).altname == p->second || names_of(i).key == p->second)
          meta = &i;
    if (!meta)
      return http_reply{200, R"({"error":["EQuery:Unknown asset pair"]})", {}};
    std::size_t count = 1000;
    if (auto c = q.find("count"); c != q.end()) {
      auto n = parse_uint(c->second);
      if (!n)
        return http_reply{200, R"({"error":["EGeneral:Invalid arguments:count"]})", {}};
      count = static_cast<std::size_t>(std::clamp<std::uint64_t>(*n, 1, 1000));
    }
    std::vector<mi::trade> trades;
    std::string last = "0";
    if (auto s = q.find("since"); s != q.end()) {
      auto since = parse_uint(s->second);
      if (!since)
        return http_reply{200, R"({"error":["EGeneral:Invalid arguments:since"]})", {}};
      trades = m_.since_ns(meta->symbol, static_cast<std::int64_t>(*since), count);
      last = s->second;
    } else {
      trades = m_.newest(meta->symbol, count);
    }
    const auto n = names_of(*meta);
    std::string body = R"({"error":[],"result":{")" + n.key + "\":[";
    char time[48];
    for (std::size_t i = 0; i < trades.size(); ++i) {
      const auto& t = trades[i];
      if (i)
        body += ',';
      std::snprintf(time, sizeof time, "%lld.%06lld", static_cast<long long>(t.ts_ns / 1'000'000'000),
                    static_cast<long long>(t.ts_ns % 1'000'000'000 / 1000));
      body += "[\"" + t.price.to_string() + "\",\"" + t.quantity.to_string() + "\"," + time + ",\"" +
              (t.taker_side == mi::side::sell ? "s" : "b") + "\",\"m\",\"\"," + t.trade_id + "]";
    }
    if (!trades.empty())
      last = std::to_string(trades.back().ts_ns);
    body += "],\"last\":\"" + last + "\"}}";
    return http_reply{200, std::move(body), {}};
  }

private:
  static depth_view* view_of(connection_state& cs, std::string_view symbol) {
    auto& c = static_cast<kraken_connection&>(cs);
    auto it = c.books.find(symbol);
    return it == c.books.end() ? nullptr : &it->second;
  }

  // {"channel":"book","type":"snapshot|update","data":[{"symbol":"BTC/USD","bids":[{"price":99.50,"qty":0.01200000}],
  // "asks":[..],"checksum":N(,"timestamp":"RFC 3339")}]}: the checksum over the top 10 of the book after the frame, in
  // the text sent.
  std::string book_frame(std::string_view type, std::string_view symbol, const std::vector<sim_level>& levels,
                         const sim_book& b, bool corrupt_checksum) {
    const auto* meta = m_.find(symbol);
    const std::string pair = meta ? v2_pair(*meta) : std::string(symbol);
    std::string out = R"({"channel":"book","type":")" + std::string(type) + R"(","data":[{"symbol":)";
    append_json_string(out, pair);
    for (auto s : {mi::book::side::bid, mi::book::side::ask}) {
      out += s == mi::book::side::bid ? R"(,"bids":[)" : R"(,"asks":[)";
      append_side(out, levels, s, [](const sim_level& l) {
        return R"({"price":)" + fixed(l.price, 2) + R"(,"qty":)" + fixed(l.qty, 8) + "}";
      });
      out += ']';
    }
    // The checksum of the texts a client holds: the top 10 of each side, as sent.
    checksum_book_.clear();
    for (auto s : {mi::book::side::bid, mi::book::side::ask}) {
      std::size_t n = 0;
      for (const auto& [price, l] : b.book().levels(s)) {
        if (n++ == 10)
          break;
        checksum_book_.set(s, fixed(l.price_text, 2), fixed(l.qty_text, 8));
      }
    }
    std::uint32_t checksum = kraken::book_checksum(checksum_book_, scratch_);
    if (corrupt_checksum)
      checksum ^= 0x5a5a5a5aU;
    out += R"(,"checksum":)" + std::to_string(checksum);
    if (type == "update")
      out += R"(,"timestamp":")" + rfc3339_micros(wall_ns()) + '"';
    out += "}]}";
    return out;
  }

  static std::string error(std::string_view why, std::string_view method, const boost::json::value* req_id,
                           const std::string& time_in, std::string_view symbol) {
    std::string out = R"({"error":)";
    append_json_string(out, why);
    if (!method.empty()) {
      out += ",\"method\":";
      append_json_string(out, method);
    }
    if (req_id)
      out += ",\"req_id\":" + boost::json::serialize(*req_id);
    out += R"(,"success":false)";
    if (!symbol.empty()) {
      out += ",\"symbol\":";
      append_json_string(out, symbol);
    }
    out += R"(,"time_in":")" + time_in + R"(","time_out":")" + rfc3339_micros(wall_ns()) + "\"}";
    return out;
  }

  const market& m_;
  unsigned connections_ = 0;
  mi::book::order_book checksum_book_; ///< the top 10 as sent, reused
  std::string scratch_;                ///< the checksum's text, reused
};

} // namespace

std::unique_ptr<protocol> make_kraken_protocol(const market& m) { return std::make_unique<kraken_protocol>(m); }

} // namespace mi::sim
