// Kraken, server side: WebSocket v2 (/v2) with the status greeting, per-symbol subscribe acks, ping/pong and
// 1 s heartbeats; REST /0/public/AssetPairs and /0/public/Trades (oldest first from `since`, in ns).
// Kraken has no forced-disconnect notice.
#include <algorithm>
#include <cstdio>

#include <boost/json.hpp>

#include "connectors/json_text.hpp"
#include "connectors/kraken/codec.hpp"
#include "connectors/kraken/instruments.hpp"
#include "simulator/protocols/protocol.hpp"

namespace mi::sim {
namespace {

using connectors::text::append_json_string;

struct kraken_connection : connection_state {
  std::size_t subscriptions = 0; ///< trade subscriptions; heartbeats flow while > 0
};

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
    if (str(channel->get_string()) != "trade")
      return out.frames.push_back(
        error("Channel not supported " + std::string(str(channel->get_string())), m, req_id, time_in, ""));
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
      std::string ack = R"({"method":")" + m + R"(","result":{"channel":"trade","symbol":)";
      append_json_string(ack, pair);
      ack += std::string(sub ? R"(,"snapshot":true)" : "") + R"(},"success":true)";
      if (req_id)
        ack += ",\"req_id\":" + boost::json::serialize(*req_id);
      ack += R"(,"time_in":")" + time_in + R"(","time_out":")" + rfc3339_micros(wall_ns()) + "\"}";
      out.frames.push_back(std::move(ack));
      if (sub)
        ++c.subscriptions;
      else if (c.subscriptions > 0)
        --c.subscriptions;
      (sub ? out.subscribe : out.unsubscribe).push_back({meta->symbol, 0});
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
};

} // namespace

std::unique_ptr<protocol> make_kraken_protocol(const market& m) { return std::make_unique<kraken_protocol>(m); }

} // namespace mi::sim
