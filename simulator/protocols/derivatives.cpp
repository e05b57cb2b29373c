// The perpetual-swap venues, server side (issue 15, derivatives channels): binance-usdm (combined streams
// <symbol>@markPrice@1s and <symbol>@forceOrder, REST /fapi/v1/openInterest), okx-swap (funding-rate, mark-price,
// open-interest per instId BTC-USDT-SWAP, liquidation-orders per instType SWAP) and bybit-linear (tickers snapshot
// then deltas, allLiquidation). Every generated trade of a subscribed symbol becomes that venue's events
// (sim_derivatives: the true values), each written in the exchange's own message shape; GET /sim/derivatives?symbol=X
// lists the true events of the symbol's generated trades, for the tests to compare with what the platform published.
#include "simulator/protocols/derivatives.hpp"

#include <set>

#include <boost/json.hpp>

#include "connectors/json_text.hpp"
#include "messages/venue_registry.hpp"

namespace mi::sim {
namespace {

constexpr std::int64_t ms = 1'000'000;
constexpr std::int64_t funding_period_ms = 8 * 3600 * 1000;

std::string_view str(const boost::json::string& s) { return {s.data(), s.size()}; }

std::uint64_t number_of(const mi::trade& t) {
  auto n = parse_uint(t.trade_id);
  return n ? *n : 0;
}

/// -0.0003 .. 0.0003, from the trade number.
std::string rate_of(std::uint64_t n) {
  const int k = static_cast<int>(n % 7) - 3;
  if (k == 0)
    return "0";
  return std::string(k < 0 ? "-" : "") + "0.000" + std::to_string(k < 0 ? -k : k);
}

std::string ms_text(std::int64_t ns) { return std::to_string(ns / ms); }

/// The decimal with trailing zeros, as Binance writes its prices ("100" -> "100.00", "1.5" -> "1.500").
std::string padded(const std::string& text) { return text + (text.find('.') == std::string::npos ? ".00" : "00"); }

struct deriv_connection : connection_state {
  std::set<std::string> marks, fundings, interests, liquidations; ///< symbols per channel
  bool liquidations_all = false;                                  ///< OKX: liquidation-orders for instType SWAP
  bool tickers_snapshot_sent = false;
  std::set<std::string> tickers_started; ///< Bybit: symbols whose tickers snapshot went out
};

class deriv_protocol : public protocol {
public:
  deriv_protocol(const market& m, std::string venue) : m_(m), venue_(std::move(venue)) {}

  std::unique_ptr<connection_state> open(std::string_view, const query_params&, actions&, http_reply&) override {
    return std::make_unique<deriv_connection>();
  }

  std::string malformed_trade_frame(connection_state&, std::string_view, int) override { return "{\"x\":"; }

  std::string trade_frame(connection_state& cs, const mi::trade& t, int) override {
    auto& c = static_cast<deriv_connection&>(cs);
    std::string out;
    for (const auto& d : sim_derivatives(venue_, t)) {
      auto frame = encode(c, d, t);
      if (frame.empty())
        continue;
      if (!out.empty())
        out += '\n'; // one WebSocket message per line (simulator.cpp splits them)
      out += frame;
    }
    return out;
  }

  std::optional<http_reply> rest(std::string_view path, const query_params& q) override {
    if (path == "/sim/derivatives") {
      auto sym = q.find("symbol");
      if (sym == q.end() || m_.find(sym->second) == nullptr)
        return http_reply{404, R"({"error":"unknown symbol"})", {}};
      std::string body = "[";
      for (const auto& t : m_.newest(sym->second, 1'000'000))
        for (const auto& d : sim_derivatives(venue_, t)) {
          if (body.size() > 1)
            body += ',';
          body += mi::deriv::to_json(d);
        }
      body += ']';
      return http_reply{200, std::move(body), {}};
    }
    return venue_rest(path, q);
  }

protected:
  virtual std::string encode(deriv_connection& c, const mi::deriv::derivative& d, const mi::trade& t) = 0;
  virtual std::optional<http_reply> venue_rest(std::string_view, const query_params&) { return std::nullopt; }

  const market& m_;
  std::string venue_;
};

// -- binance-usdm ------------------------------------------------------------------------------

class binance_usdm_protocol final : public deriv_protocol {
public:
  explicit binance_usdm_protocol(const market& m) : deriv_protocol(m, "binance-usdm") {}

  void on_text(connection_state& cs, std::string_view text, actions& out) override {
    auto& c = static_cast<deriv_connection&>(cs);
    boost::system::error_code ec;
    auto v = boost::json::parse(boost::json::string_view(text.data(), text.size()), ec);
    if (ec || !v.is_object() || !v.as_object().contains("method") || !v.as_object().contains("params"))
      return out.frames.push_back(R"({"code":2,"msg":"Invalid request"})");
    const auto& o = v.as_object();
    const auto id = o.contains("id") ? boost::json::serialize(o.at("id")) : std::string("null");
    const bool sub = o.at("method").is_string() && str(o.at("method").as_string()) == "SUBSCRIBE";
    if (!o.at("params").is_array())
      return out.frames.push_back(R"({"code":2,"msg":"Invalid request"})");
    for (const auto& p : o.at("params").as_array()) {
      if (!p.is_string())
        continue;
      std::string s(str(p.as_string()));
      const auto at = s.find('@');
      std::string sym = s.substr(0, at);
      for (char& ch : sym)
        ch = (ch >= 'a' && ch <= 'z') ? static_cast<char>(ch - 'a' + 'A') : ch;
      if (m_.find(sym) == nullptr)
        continue;
      const std::string stream = at == std::string::npos ? "" : s.substr(at);
      auto& set = stream == "@forceOrder" ? c.liquidations : c.marks;
      if (stream != "@forceOrder" && stream != "@markPrice@1s" && stream != "@markPrice")
        continue;
      if (sub) {
        set.insert(sym);
        out.subscribe.push_back({sym, 0});
      } else {
        set.erase(sym);
      }
    }
    ++out.subscribe_requests;
    out.frames.push_back(R"({"result":null,"id":)" + id + "}");
  }

protected:
  std::string encode(deriv_connection& c, const mi::deriv::derivative& d, const mi::trade& t) override {
    std::string lower = d.symbol;
    for (char& ch : lower)
      ch = (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch - 'A' + 'a') : ch;
    if (d.what == mi::deriv::channel::mark && c.marks.count(d.symbol)) {
      // markPriceUpdate carries the funding of the same event (sim_derivatives gives it right after).
      const auto rate = rate_of(number_of(t));
      return R"({"stream":")" + lower + R"(@markPrice@1s","data":{"e":"markPriceUpdate","E":)" + ms_text(d.ts_ns) +
             R"(,"s":")" + d.symbol + R"(","p":")" + padded(d.mark_price) + R"(","i":")" + d.index_price +
             R"(","P":")" + d.mark_price + R"(","r":")" + rate + R"(","T":)" + ms_text(next_funding_ns(d.ts_ns)) + "}}";
    }
    if (d.what == mi::deriv::channel::liquidation && c.liquidations.count(d.symbol))
      return R"({"stream":")" + lower + R"(@forceOrder","data":{"e":"forceOrder","E":)" + ms_text(d.ts_ns + ms) +
             R"(,"o":{"s":")" + d.symbol + R"(","S":")" + (d.side == mi::side::buy ? "BUY" : "SELL") +
             R"(","o":"LIMIT","f":"IOC","q":")" + d.quantity + R"(","p":")" + d.price + R"(","ap":")" + d.price +
             R"(","X":"FILLED","l":")" + d.quantity + R"(","z":")" + d.quantity + R"(","T":)" + ms_text(d.ts_ns) +
             "}}}";
    return {};
  }

  std::optional<http_reply> venue_rest(std::string_view path, const query_params& q) override {
    if (path != "/fapi/v1/openInterest")
      return std::nullopt;
    auto sym = q.find("symbol");
    if (sym == q.end() || m_.find(sym->second) == nullptr)
      return http_reply{400, R"({"code":-1121,"msg":"Invalid symbol."})", {}};
    auto last = m_.newest(sym->second, 1);
    if (last.empty())
      return http_reply{200, R"({"openInterest":"0","symbol":")" + sym->second + R"(","time":1})", {}};
    return http_reply{200,
                      R"({"openInterest":")" + open_interest_of(number_of(last[0])) + R"(","symbol":")" + sym->second +
                        R"(","time":)" + ms_text(last[0].ts_ns) + "}",
                      {}};
  }
};

// -- okx-swap ------------------------------------------------------------------------------------

class okx_swap_protocol final : public deriv_protocol {
public:
  explicit okx_swap_protocol(const market& m) : deriv_protocol(m, "okx-swap") {}

  void on_text(connection_state& cs, std::string_view text, actions& out) override {
    auto& c = static_cast<deriv_connection&>(cs);
    if (text == "ping")
      return out.frames.push_back("pong");
    boost::system::error_code ec;
    auto v = boost::json::parse(boost::json::string_view(text.data(), text.size()), ec);
    if (ec || !v.is_object() || !v.as_object().contains("args") || !v.as_object().at("args").is_array())
      return out.frames.push_back(R"({"event":"error","code":"60012","msg":"Invalid request"})");
    const bool sub = v.as_object().contains("op") && v.as_object().at("op") == "subscribe";
    ++out.subscribe_requests;
    for (const auto& a : v.as_object().at("args").as_array()) {
      if (!a.is_object() || !a.as_object().contains("channel"))
        continue;
      const std::string ch(str(a.as_object().at("channel").as_string()));
      std::string sym;
      if (const auto* inst = a.as_object().if_contains("instId"); inst && inst->is_string()) {
        const std::string id(str(inst->as_string()));
        if (id.size() <= 5 || id.substr(id.size() - 5) != "-SWAP")
          continue;
        for (char ch2 : id.substr(0, id.size() - 5))
          if (ch2 != '-')
            sym += ch2;
        if (m_.find(sym) == nullptr)
          continue;
      }
      std::set<std::string>* set = ch == "funding-rate"    ? &c.fundings
                                   : ch == "mark-price"    ? &c.marks
                                   : ch == "open-interest" ? &c.interests
                                                           : nullptr;
      if (ch == "liquidation-orders")
        c.liquidations_all = sub;
      else if (set != nullptr && !sym.empty())
        sub ? (void)set->insert(sym) : (void)set->erase(sym);
      else
        continue;
      if (sub && !sym.empty())
        out.subscribe.push_back({sym, 0});
      out.frames.push_back(std::string(R"({"event":")") + (sub ? "subscribe" : "unsubscribe") + R"(","arg":)" +
                           boost::json::serialize(a) + R"(,"connId":"d0b44253"})");
    }
  }

  std::chrono::milliseconds idle_close_after() const override { return std::chrono::seconds(30); }

protected:
  std::string encode(deriv_connection& c, const mi::deriv::derivative& d, const mi::trade&) override {
    const auto* meta = m_.find(d.symbol);
    if (meta == nullptr)
      return {};
    const std::string inst = meta->base + "-" + meta->quote + "-SWAP";
    const std::string ts = "\"" + ms_text(d.ts_ns) + "\"";
    switch (d.what) {
    case mi::deriv::channel::funding:
      if (!c.fundings.count(d.symbol))
        return {};
      return R"({"arg":{"channel":"funding-rate","instId":")" + inst + R"("},"data":[{"fundingRate":")" + d.rate +
             R"(","fundingTime":")" + ms_text(d.next_funding_ns) + R"(","instId":")" + inst +
             R"(","instType":"SWAP","method":"current_period","nextFundingRate":"","ts":)" + ts + "}]}";
    case mi::deriv::channel::mark:
      if (!c.marks.count(d.symbol))
        return {};
      return R"({"arg":{"channel":"mark-price","instId":")" + inst + R"("},"data":[{"instType":"SWAP","instId":")" +
             inst + R"(","markPx":")" + d.mark_price + R"(","ts":)" + ts + "}]}";
    case mi::deriv::channel::open_interest:
      if (!c.interests.count(d.symbol))
        return {};
      return R"({"arg":{"channel":"open-interest","instId":")" + inst + R"("},"data":[{"instId":")" + inst +
             R"(","instType":"SWAP","oi":")" + d.open_interest + R"(","oiCcy":"1","oiUsd":")" + d.open_interest_value +
             R"(","ts":)" + ts + "}]}";
    case mi::deriv::channel::liquidation:
      if (!c.liquidations_all)
        return {};
      return R"({"arg":{"channel":"liquidation-orders","instType":"SWAP"},"data":[{"details":[{"bkLoss":"0",)"
             R"("bkPx":")" +
             d.price + R"(","ccy":"","posSide":")" + (d.side == mi::side::buy ? "short" : "long") + R"(","side":")" +
             (d.side == mi::side::buy ? "buy" : "sell") + R"(","sz":")" + d.quantity + R"(","ts":)" + ts +
             R"(}],"instFamily":")" + meta->base + "-" + meta->quote + R"(","instId":")" + inst +
             R"(","instType":"SWAP","uly":")" + meta->base + "-" + meta->quote + R"("}]})";
    }
    return {};
  }
};

// -- bybit-linear --------------------------------------------------------------------------------

class bybit_linear_protocol final : public deriv_protocol {
public:
  explicit bybit_linear_protocol(const market& m) : deriv_protocol(m, "bybit-linear") {}

  void on_text(connection_state& cs, std::string_view text, actions& out) override {
    auto& c = static_cast<deriv_connection&>(cs);
    boost::system::error_code ec;
    auto v = boost::json::parse(boost::json::string_view(text.data(), text.size()), ec);
    if (ec || !v.is_object() || !v.as_object().contains("op"))
      return out.frames.push_back(R"({"success":false,"ret_msg":"Invalid request","op":""})");
    const auto& o = v.as_object();
    const std::string op(str(o.at("op").as_string()));
    if (op == "ping")
      return out.frames.push_back(R"({"success":true,"ret_msg":"pong","conn_id":"sim","op":"ping"})");
    const bool sub = op == "subscribe";
    if (!o.contains("args") || !o.at("args").is_array())
      return out.frames.push_back(R"({"success":false,"ret_msg":"Invalid request","op":")" + op + "\"}");
    ++out.subscribe_requests;
    for (const auto& a : o.at("args").as_array()) {
      if (!a.is_string())
        continue;
      const std::string topic(str(a.as_string()));
      const auto dot = topic.find('.');
      if (dot == std::string::npos || m_.find(topic.substr(dot + 1)) == nullptr)
        return out.frames.push_back(R"({"success":false,"ret_msg":"Invalid symbol :[)" + topic +
                                    R"(]","conn_id":"sim","op":")" + op + "\"}");
      const std::string kind = topic.substr(0, dot), sym = topic.substr(dot + 1);
      auto& set = kind == "allLiquidation" ? c.liquidations : c.marks;
      if (kind != "allLiquidation" && kind != "tickers")
        continue;
      if (sub) {
        set.insert(sym);
        out.subscribe.push_back({sym, 0});
      } else {
        set.erase(sym);
      }
    }
    out.frames.push_back(R"({"success":true,"ret_msg":"","conn_id":"sim","op":")" + op + "\"}");
  }

protected:
  // One tickers message per trade (a snapshot first, then deltas of the fields this trade changed); the liquidation
  // in its own allLiquidation message.
  std::string encode(deriv_connection& c, const mi::deriv::derivative& d, const mi::trade& t) override {
    if (d.what == mi::deriv::channel::liquidation) {
      if (!c.liquidations.count(d.symbol))
        return {};
      return R"({"topic":"allLiquidation.)" + d.symbol + R"(","type":"snapshot","ts":)" + ms_text(d.ts_ns + ms) +
             R"(,"data":[{"T":)" + ms_text(d.ts_ns) + R"(,"s":")" + d.symbol + R"(","S":")" +
             (d.side == mi::side::buy ? "Sell" : "Buy") + R"(","v":")" + d.quantity + R"(","p":")" + d.price + "\"}]}";
    }
    if (d.what != mi::deriv::channel::mark || !c.marks.count(d.symbol))
      return {}; // funding and open interest ride in the mark's tickers message
    const bool snapshot = c.tickers_started.insert(d.symbol).second;
    std::string data =
      R"("symbol":")" + d.symbol + R"(","markPrice":")" + d.mark_price + R"(","indexPrice":")" + d.index_price + "\"";
    for (const auto& other : sim_derivatives(venue_, t)) {
      if (other.what == mi::deriv::channel::funding)
        data += R"(,"fundingRate":")" + other.rate + R"(","nextFundingTime":")" + ms_text(other.next_funding_ns) + "\"";
      else if (other.what == mi::deriv::channel::open_interest)
        data += R"(,"openInterest":")" + other.open_interest + R"(","openInterestValue":")" +
                other.open_interest_value + "\"";
    }
    return R"({"topic":"tickers.)" + d.symbol + R"(","type":")" + (snapshot ? "snapshot" : "delta") + R"(","data":{)" +
           data + R"(},"cs":)" + std::to_string(number_of(t)) + R"(,"ts":)" + ms_text(d.ts_ns) + "}";
  }
};

} // namespace

std::int64_t next_funding_ns(std::int64_t ts_ns) {
  return (ts_ns / ms / funding_period_ms + 1) * funding_period_ms * ms;
}

std::string open_interest_of(std::uint64_t n) { return std::to_string(100000 + n) + ".5"; }

std::vector<mi::deriv::derivative> sim_derivatives(std::string_view venue, const mi::trade& t) {
  using mi::deriv::channel;
  const auto n = number_of(t);
  std::vector<mi::deriv::derivative> out;
  auto make = [&](channel what) {
    mi::deriv::derivative d;
    d.exchange = std::string(venue);
    d.symbol = t.symbol;
    d.what = what;
    d.ts_ns = t.ts_ns;
    return d;
  };
  const bool binance = venue == "binance-usdm", okx = venue == "okx-swap";
  auto mark = make(channel::mark);
  mark.mark_price = t.price.to_string();
  if (!okx)
    mark.index_price = t.price.to_string();
  out.push_back(mark);
  if (binance || n % 4 == 0) { // Binance: every markPriceUpdate carries the funding rate
    auto f = make(channel::funding);
    f.rate = rate_of(n);
    f.next_funding_ns = next_funding_ns(t.ts_ns);
    out.push_back(f);
  }
  if (!binance && n % 3 == 0) { // Binance's open interest is REST only
    auto o = make(channel::open_interest);
    o.open_interest = open_interest_of(n);
    o.open_interest_value = std::to_string(n) + "00";
    out.push_back(o);
  }
  if (n % 5 == 0) {
    auto l = make(channel::liquidation);
    l.side = t.taker_side == mi::side::sell ? mi::side::sell : mi::side::buy;
    l.price = t.price.to_string();
    l.quantity = t.quantity.to_string();
    out.push_back(l);
  }
  return out;
}

const std::vector<registered_protocol>& derivatives_protocols() {
  static const std::vector<registered_protocol> all{
    {"binance-usdm",
     [](const market& m) -> std::unique_ptr<protocol> { return std::make_unique<binance_usdm_protocol>(m); }},
    {"okx-swap", [](const market& m) -> std::unique_ptr<protocol> { return std::make_unique<okx_swap_protocol>(m); }},
    {"bybit-linear",
     [](const market& m) -> std::unique_ptr<protocol> { return std::make_unique<bybit_linear_protocol>(m); }},
  };
  return all;
}

} // namespace mi::sim
