// Alpaca, server side: the market data v2 stream (/v2/iex, /v2/sip, /v2/delayed_sip, /v2/test) with the "connected"
// greeting, auth by message (key id and secret checked against ALPACA_SIM_KEY_ID / ALPACA_SIM_SECRET_KEY, default
// PKSIMULATOR / simulator-secret), subscription acks in the current shape, trades with a quote after each, and every
// few trades a minute bar, a correction, a cancel and a halt status (the kinds the client must decode without
// publishing them as trades; corrections and cancels are published as amendments). REST: /v2/stocks/{symbol}/trades
// (start/end/limit, paged by an opaque next_page_token), /v2/stocks/bars?timeframe=1Day (each New York day's bar
// from the same history: the trades a client was sent, less those the stream canceled; ALPACA_SIM_BARS_PAGE bars a
// page at most, ALPACA_SIM_BAR_OFF="AAPL:2026-12-02" makes that bar's volume one share more than the trades say),
// /v2/assets and the trading API's /v2/calendar (the body of the file ALPACA_SIM_CALENDAR names). Alpaca has no
// forced-disconnect notice and no application heartbeat.
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <map>
#include <set>

#include <boost/json.hpp>

#include "connectors/alpaca/codec.hpp"
#include "connectors/json_text.hpp"
#include "connectors/time_text.hpp"
#include "messages/util/civil_time.hpp"
#include "messages/util/time_zone.hpp"
#include "simulator/protocols/protocol.hpp"

namespace mi::sim {
namespace {

using connectors::text::append_json_string;

/// Every how many trade ids each extra kind is sent (after the trade, in the same frame).
constexpr std::uint64_t bar_every = 50;
constexpr std::uint64_t correction_every = 97;
constexpr std::uint64_t cancel_every = 89;
constexpr std::uint64_t status_every = 211;
/// A correction's new id (`ci`): the trade's id plus this, never the id of a generated trade.
constexpr std::uint64_t corrected_id_offset = 1'000'000'000'000;

struct alpaca_connection : connection_state {
  bool authenticated = false;
  std::set<std::string> trades; ///< normalized symbols
};

std::string_view str(const boost::json::string& s) { return {s.data(), s.size()}; }

std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : std::string(fallback);
}

/// The market center of a simulated trade: a function of its id, so the stream and REST agree.
std::string_view exchange_code_of(std::uint64_t id) {
  static constexpr std::string_view codes[] = {"V", "D", "K"};
  return codes[id % 3];
}

std::string control(std::string_view type, std::string_view msg) {
  std::string out = R"([{"T":")" + std::string(type) + R"(","msg":)";
  append_json_string(out, msg);
  return out + "}]";
}

std::string error(int code, std::string_view msg) {
  std::string out = R"([{"T":"error","code":)" + std::to_string(code) + R"(,"msg":)";
  append_json_string(out, msg);
  return out + "}]";
}

std::string list(const std::vector<std::string>& tickers) {
  std::string out = "[";
  for (std::size_t i = 0; i < tickers.size(); ++i) {
    if (i != 0)
      out += ',';
    append_json_string(out, tickers[i]);
  }
  return out + "]";
}

// ALPACA_SIM_AMENDMENTS=off: no corrections and no cancels (a baseline for the store's cost of amendments,
// tests/bench/alpaca_e2e.sh); read once.
bool amendments_on() {
  static const bool on = env_or("ALPACA_SIM_AMENDMENTS", "on") != "off";
  return on;
}

std::uint64_t id_of(const mi::trade& t) {
  auto n = parse_uint(t.trade_id);
  return n ? *n : 0;
}

class alpaca_protocol final : public protocol {
public:
  explicit alpaca_protocol(const market& m)
      : m_(m), key_(env_or("ALPACA_SIM_KEY_ID", "PKSIMULATOR")),
        secret_(env_or("ALPACA_SIM_SECRET_KEY", "simulator-secret")) {}

  std::unique_ptr<connection_state> open(std::string_view path, const query_params&, actions& initial,
                                         http_reply& refusal) override {
    if (path != "/v2/iex" && path != "/v2/sip" && path != "/v2/delayed_sip" && path != "/v2/test") {
      refusal = {404, R"({"message":"Not Found"})", {}};
      return nullptr;
    }
    initial.frames.push_back(control("success", "connected"));
    return std::make_unique<alpaca_connection>();
  }

  void on_text(connection_state& cs, std::string_view text, actions& out) override {
    auto& c = static_cast<alpaca_connection&>(cs);
    boost::system::error_code ec;
    auto v = boost::json::parse(boost::json::string_view(text.data(), text.size()), ec);
    const auto* o = !ec ? v.if_object() : nullptr;
    const auto* action = o ? o->if_contains("action") : nullptr;
    if (!action || !action->is_string())
      return out.frames.push_back(error(400, "invalid syntax"));
    const auto a = str(action->get_string());
    if (a == "auth") {
      if (c.authenticated)
        return out.frames.push_back(error(403, "already authenticated"));
      const auto* key = o->if_contains("key");
      const auto* secret = o->if_contains("secret");
      if (key && key->is_string() && secret && secret->is_string() && str(key->get_string()) == key_ &&
          str(secret->get_string()) == secret_) {
        c.authenticated = true;
        return out.frames.push_back(control("success", "authenticated"));
      }
      return out.frames.push_back(error(402, "auth failed"));
    }
    if (a != "subscribe" && a != "unsubscribe")
      return out.frames.push_back(error(400, "invalid syntax"));
    if (!c.authenticated)
      return out.frames.push_back(error(401, "not authenticated"));
    const bool sub = a == "subscribe";
    if (sub)
      ++out.subscribe_requests;
    // The channels' lists: the listed symbols of each; trades drive the simulator's subscriptions.
    std::vector<std::string> trades;
    std::string ack = R"([{"T":"subscription")";
    for (std::string_view channel : {"trades", "quotes", "bars", "updatedBars", "dailyBars", "statuses"}) {
      std::vector<std::string> tickers;
      if (const auto* l = o->if_contains(channel); l && l->is_array()) {
        for (const auto& s : l->get_array()) {
          if (!s.is_string())
            return out.frames.push_back(error(400, "invalid syntax"));
          auto sym = mi::alpaca::normalize_symbol(str(s.get_string()));
          if (!sym || m_.find(*sym) == nullptr)
            continue; // Alpaca leaves unknown symbols out of the ack
          tickers.push_back(mi::alpaca::ticker_of(*sym));
          if (channel == "trades") {
            if (sub ? c.trades.insert(*sym).second : c.trades.erase(*sym) != 0)
              (sub ? out.subscribe : out.unsubscribe).push_back({*sym, 0});
          }
        }
      }
      if (channel == "trades") {
        trades.clear();
        for (const auto& s : c.trades)
          trades.push_back(mi::alpaca::ticker_of(s));
        ack += R"(,"trades":)" + list(trades);
      } else {
        ack += ",\"" + std::string(channel) + "\":" + list(tickers);
      }
    }
    ack += R"(,"lulds":[],"corrections":)" + list(trades) + R"(,"cancelErrors":)" + list(trades) + "}]";
    out.frames.push_back(std::move(ack));
  }

  std::string trade_frame(connection_state&, const mi::trade& t, int) override {
    const auto id = id_of(t);
    const std::string ticker = mi::alpaca::ticker_of(t.symbol);
    mi::trade printed = t; // the conditions and tape REST gives the same trade
    printed.conditions = {"@"};
    printed.tape = "C";
    std::string out = "[" + mi::alpaca::encode_trade_object(printed, id, exchange_code_of(id));
    const std::string time = mi::util::rfc3339(t.ts_ns);
    const std::string px = t.price.to_string();
    // The quote around the trade.
    out += R"(,{"T":"q","S":")" + ticker + R"(","bx":"V","bp":)" + px + R"(,"bs":1,"ax":"V","ap":)" + px +
           R"(,"as":1,"c":["R"],"z":"C","t":")" + time + "\"}";
    if (id % bar_every == 0)
      out += R"(,{"T":"b","S":")" + ticker + R"(","o":)" + px + R"(,"h":)" + px + R"(,"l":)" + px + R"(,"c":)" + px +
             R"(,"v":)" + t.quantity.to_string() + R"(,"t":")" +
             mi::util::rfc3339(t.ts_ns / 60'000'000'000 * 60'000'000'000) + R"(","n":1,"vw":)" + px + "}";
    // This frame's trade, corrected to the same values under a new id (as Alpaca's `ci` differs from `oi`): the
    // platform applies it (an amendment on MARKET_RAW) and nothing a consumer compares changes.
    if (amendments_on() && id % correction_every == 0 && id > 1)
      out += R"(,{"T":"c","S":")" + ticker + R"(","x":")" + std::string(exchange_code_of(id)) + R"(","oi":)" +
             std::to_string(id) + R"(,"op":)" + px + R"(,"os":)" + t.quantity.to_string() + R"(,"oc":["@"],"ci":)" +
             std::to_string(id + corrected_id_offset) + R"(,"cp":)" + px + R"(,"cs":)" + t.quantity.to_string() +
             R"(,"cc":["@"],"z":"C","t":")" + time + "\"}";
    if (amendments_on() && id % cancel_every == 0 && id > 1)
      out += R"(,{"T":"x","S":")" + ticker + R"(","i":)" + std::to_string(id - 1) + R"(,"x":")" +
             std::string(exchange_code_of(id - 1)) + R"(","p":)" + px + R"(,"s":1,"a":"C","z":"C","t":")" + time +
             "\"}";
    if (id % status_every == 0)
      out +=
        R"(,{"T":"s","S":")" + ticker +
        R"(","sc":"H","sm":"Trading Halt","rc":"T12","rm":"Trading Halted; For information requested by NASDAQ","t":")" +
        time + R"(","z":"C"})";
    return out + "]";
  }

  std::string malformed_trade_frame(connection_state&, std::string_view symbol, int) override {
    return R"([{"T":"t","S":")" + mi::alpaca::ticker_of(symbol) +
           R"(","i":1,"x":"V","p":"not-a-price","s":1,"t":"2026-01-01T00:00:00Z"}])";
  }

  std::int64_t time_resolution_ns() const override { return 1000; }

  std::optional<http_reply> rest(std::string_view path, const query_params& q) override {
    if (path == "/v2/assets") {
      std::string body = "[";
      bool first = true;
      for (const auto& i : m_.listed()) {
        if (!first)
          body += ',';
        first = false;
        body += R"({"id":"sim-)" + i.symbol + R"(","class":"us_equity","exchange":"NASDAQ","symbol":)";
        append_json_string(body, mi::alpaca::ticker_of(i.symbol));
        body += R"(,"status":"active","tradable":true,"marginable":true,"shortable":true,"easy_to_borrow":true,)"
                R"("fractionable":true})";
      }
      return http_reply{200, body + "]", {}};
    }
    // The trading API's calendar (calendars.alpaca_refresh points at the simulator): the body of the file named by
    // ALPACA_SIM_CALENDAR, whatever the start and end asked (404 without one).
    if (path == "/v2/calendar") {
      const std::string file = env_or("ALPACA_SIM_CALENDAR", "");
      std::ifstream in(file);
      if (file.empty() || !in)
        return http_reply{404, R"({"message":"not found"})", {}};
      std::ostringstream body;
      body << in.rdbuf();
      return http_reply{200, body.str(), {}};
    }
    if (path == "/v2/stocks/bars")
      return daily_bars(q);
    constexpr std::string_view prefix = "/v2/stocks/";
    constexpr std::string_view suffix = "/trades";
    if (path.rfind(prefix, 0) != 0 || path.size() <= prefix.size() + suffix.size() || !path.ends_with(suffix))
      return std::nullopt;
    const auto ticker = path.substr(prefix.size(), path.size() - prefix.size() - suffix.size());
    auto sym = mi::alpaca::normalize_symbol(ticker);
    if (!sym || m_.find(*sym) == nullptr)
      return http_reply{200, R"({"trades":null,"symbol":")" + std::string(ticker) + R"(","next_page_token":null})", {}};
    auto time_param = [&](std::string_view key, std::int64_t fallback) -> std::optional<std::int64_t> {
      auto it = q.find(key);
      if (it == q.end())
        return fallback;
      return connectors::text::parse_rfc3339_ns(it->second);
    };
    const auto start = time_param("start", 0);
    const auto end = time_param("end", std::numeric_limits<std::int64_t>::max());
    if (!start || !end)
      return http_reply{400, R"({"code":42210000,"message":"invalid start or end"})", {}};
    std::size_t limit = 1000;
    if (auto it = q.find("limit"); it != q.end()) {
      auto n = parse_uint(it->second);
      if (!n || *n < 1 || *n > 10000)
        return http_reply{422, R"({"code":42210000,"message":"invalid limit"})", {}};
      limit = static_cast<std::size_t>(*n);
    }
    // The page token is opaque to clients; here it is the time and id to continue after, in hex-free digits.
    std::int64_t from_ns = *start;
    std::uint64_t after_id = 0;
    if (auto it = q.find("page_token"); it != q.end()) {
      const auto& tok = it->second;
      const auto bar = tok.find('|');
      auto ts = bar == std::string::npos ? std::nullopt : parse_uint(std::string_view(tok).substr(0, bar));
      auto id = bar == std::string::npos ? std::nullopt : parse_uint(std::string_view(tok).substr(bar + 1));
      if (!ts || !id)
        return http_reply{400, R"({"code":40010001,"message":"invalid page token"})", {}};
      from_ns = static_cast<std::int64_t>(*ts);
      after_id = *id;
    }
    auto all = m_.since_ns(*sym, from_ns, limit + 1000);
    std::vector<mi::trade> page;
    bool more = false;
    for (auto& t : all) {
      if (t.ts_ns > *end)
        break;
      if (t.ts_ns == from_ns && after_id != 0 && id_of(t) <= after_id)
        continue;
      if (page.size() == limit) {
        more = true;
        break;
      }
      page.push_back(std::move(t));
    }
    std::string body = page.empty() ? std::string(R"({"trades":null)") : std::string(R"({"trades":[)");
    for (std::size_t i = 0; i < page.size(); ++i) {
      const auto& t = page[i];
      const auto id = id_of(t);
      if (i != 0)
        body += ',';
      body += R"({"t":")" + mi::util::rfc3339(t.ts_ns) + R"(","x":")" + std::string(exchange_code_of(id)) +
              R"(","p":)" + t.price.to_string() + R"(,"s":)" + t.quantity.to_string() + R"(,"c":["@"],"i":)" +
              std::to_string(id) + R"(,"z":"C"})";
    }
    if (!page.empty())
      body += ']';
    body += R"(,"symbol":)";
    append_json_string(body, ticker);
    body += R"(,"next_page_token":)";
    if (more)
      body += "\"" + std::to_string(page.back().ts_ns) + "|" + std::to_string(id_of(page.back())) + "\"";
    else
      body += "null";
    return http_reply{200, body + "}", {}};
  }

private:
  /// GET /v2/stocks/bars?symbols=..&timeframe=1Day&start=..&end=..[&limit=][&page_token=]: multi-symbol shape,
  /// symbols in order, days ascending; `t` is midnight New York; `n` the trades, no `vw`.
  http_reply daily_bars(const query_params& q) const {
    auto param = [&](std::string_view k) {
      auto it = q.find(k);
      return it == q.end() ? std::string() : it->second;
    };
    if (param("timeframe") != "1Day")
      return {422, R"({"code":42210000,"message":"the simulator serves timeframe 1Day only"})", {}};
    auto day_of = [](const std::string& text) -> std::optional<std::int64_t> {
      if (text.size() < 10)
        return std::nullopt;
      auto y = parse_uint(std::string_view(text).substr(0, 4));
      auto m = parse_uint(std::string_view(text).substr(5, 2));
      auto d = parse_uint(std::string_view(text).substr(8, 2));
      if (!y || !m || !d || text[4] != '-' || text[7] != '-')
        return std::nullopt;
      return mi::util::days_from_civil(static_cast<int>(*y), static_cast<unsigned>(*m), static_cast<unsigned>(*d));
    };
    const auto first = day_of(param("start"));
    const auto last = day_of(param("end"));
    if (!first || !last)
      return {422, R"({"code":42210000,"message":"invalid start or end"})", {}};
    std::size_t limit = 10000;
    if (auto l = param("limit"); !l.empty()) {
      auto n = parse_uint(l);
      if (!n || *n < 1 || *n > 10000)
        return {422, R"({"code":42210000,"message":"invalid limit"})", {}};
      limit = static_cast<std::size_t>(*n);
    }
    if (auto p = parse_uint(env_or("ALPACA_SIM_BARS_PAGE", "0")); p && *p > 0)
      limit = std::min<std::size_t>(limit, static_cast<std::size_t>(*p));
    std::size_t skip = 0;
    if (auto tok = param("page_token"); !tok.empty()) {
      auto n = parse_uint(tok);
      if (!n)
        return {400, R"({"code":40010001,"message":"invalid page token"})", {}};
      skip = static_cast<std::size_t>(*n);
    }
    const std::string off = env_or("ALPACA_SIM_BAR_OFF", "");
    std::vector<std::string> tickers;
    std::string list = param("symbols");
    for (std::size_t at = 0; at <= list.size();) {
      auto comma = list.find(',', at);
      if (comma == std::string::npos)
        comma = list.size();
      if (comma > at)
        tickers.push_back(list.substr(at, comma - at));
      at = comma + 1;
    }
    std::sort(tickers.begin(), tickers.end());
    struct day_bar {
      std::string ticker;
      std::int64_t day;
      mi::decimal o, h, l, c, v;
      std::uint64_t n = 0;
    };
    std::vector<day_bar> all;
    for (const auto& ticker : tickers) {
      auto sym = mi::alpaca::normalize_symbol(ticker);
      if (!sym || m_.find(*sym) == nullptr)
        continue;
      const auto trades = m_.since_ns(*sym, 0, m_.history_size(*sym));
      std::set<std::uint64_t> ids;
      for (const auto& t : trades)
        ids.insert(id_of(t));
      std::map<std::int64_t, day_bar> days;
      for (const auto& t : trades) {
        const auto id = id_of(t);
        if (amendments_on() && (id + 1) % cancel_every == 0 && ids.count(id + 1) != 0)
          continue; // the stream canceled it (trade_frame: id % cancel_every == 0 cancels id - 1)
        auto local = mi::util::local_time_in("America/New_York", t.ts_ns);
        if (!local)
          continue;
        const auto d = mi::util::days_from_civil(static_cast<int>(local->local.date.year), local->local.date.month,
                                                 local->local.date.day);
        if (d < *first || d > *last)
          continue;
        auto [it, fresh] = days.try_emplace(d);
        auto& b = it->second;
        if (fresh) {
          b = day_bar{ticker, d, t.price, t.price, t.price, t.price, t.quantity, 0};
        } else {
          b.h = std::max(b.h, t.price);
          b.l = std::min(b.l, t.price);
          b.c = t.price;
          b.v = b.v.checked_add(t.quantity).value_or(b.v);
        }
        ++b.n;
      }
      for (auto& [d, b] : days) {
        if (!off.empty() && off == ticker + ":" + mi::util::date_text(mi::util::civil_from_days(d)))
          b.v = b.v.checked_add(*mi::decimal::from_parts(1, 0)).value_or(b.v);
        all.push_back(std::move(b));
      }
    }
    std::string body = R"({"bars":{)";
    std::string open_ticker;
    const std::size_t end = std::min(all.size(), skip + limit);
    for (std::size_t i = skip; i < end; ++i) {
      const auto& b = all[i];
      if (b.ticker != open_ticker) {
        if (!open_ticker.empty())
          body += "],";
        append_json_string(body, b.ticker);
        body += ":[";
        open_ticker = b.ticker;
      } else {
        body += ',';
      }
      const auto civil = mi::util::civil_from_days(b.day);
      auto midnight = mi::util::utc_of_local("America/New_York", mi::util::civil_time{civil, 0, 0, 0, 0});
      body += R"({"t":")" + mi::util::rfc3339(midnight ? *midnight : b.day * mi::util::ns_per_day) + R"(","o":)" +
              b.o.to_string() + R"(,"h":)" + b.h.to_string() + R"(,"l":)" + b.l.to_string() + R"(,"c":)" +
              b.c.to_string() + R"(,"v":)" + b.v.to_string() + R"(,"n":)" + std::to_string(b.n) + "}";
    }
    if (!open_ticker.empty())
      body += ']';
    body += R"(},"next_page_token":)";
    body += end < all.size() ? "\"" + std::to_string(end) + "\"" : std::string("null");
    return {200, body + "}", {}};
  }

  const market& m_;
  std::string key_;
  std::string secret_;
};

} // namespace

std::unique_ptr<protocol> make_alpaca_protocol(const market& m) { return std::make_unique<alpaca_protocol>(m); }

} // namespace mi::sim
