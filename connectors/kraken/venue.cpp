// Kraken WS v2: the `trade` channel by "BTC/USD", {"method":"ping"} every 30 s, REST /0/public/Trades
// paged forward by time (`since` ns, the response's `last`), pairs named by their altname (XBTUSD).

#include <map>
#include <string>

#include <simdjson.h>

#include "connectors/bybit/codec.hpp"
#include "connectors/kraken/book.hpp"
#include "connectors/kraken/codec.hpp"
#include "connectors/kraken/instruments.hpp"
#include "connectors/kraken/rest.hpp"
#include "connectors/book_json.hpp"
#include "connectors/json_text.hpp"
#include "connectors/time_text.hpp"
#include "connectors/rest_json.hpp"
#include "connectors/venue/detail.hpp"

namespace mi::venue::detail {
namespace {

/// Kraken's page limit of /0/public/Trades.
constexpr int page_limit = 1000;
/// Client ping period (Kraken closes idle connections after about a minute).
constexpr std::int64_t ping_interval_ns = 30'000'000'000;
/// Most symbols in one subscribe request (Kraken documents no limit; keeps requests small).
constexpr std::size_t symbols_per_request = 50;

class kraken_venue final : public venue {
public:
  std::string_view name() const override { return "kraken"; }

  rest_request instruments_request() const override { return {"/0/public/AssetPairs"}; }

  mi::result<instruments_ptr> parse_instruments(std::string_view body) const override {
    auto parsed = kraken::parse_asset_pairs(body);
    if (!parsed)
      return rest_error(name(), "AssetPairs", parsed.err());
    std::map<std::string, std::string> altnames;
    for (const kraken::asset_pair& p : *parsed)
      altnames[p.inst.symbol] = p.altname;
    const auto n = altnames.size();
    return share_instruments(name(), std::move(altnames), n);
  }

  bool use_instruments(instruments_ptr table) override {
    const auto* altnames = instruments_of<std::map<std::string, std::string>>(table, name());
    if (altnames == nullptr)
      return false;
    table_ = std::move(table);
    altnames_ = altnames;
    loaded_ = true;
    return true;
  }

  mi::result<subscription> resolve(std::string_view unified) const override {
    auto inst = kraken::from_unified(unified);
    if (!inst)
      return inst.err();
    std::string rest_name;
    if (loaded_) {
      auto it = altnames_->find(inst->symbol);
      if (it == altnames_->end())
        return not_listed(unified, name());
      rest_name = it->second;
    } else {
      // Without a listing: the altname is usually the v1 asset codes run together (BTC/USD -> XBTUSD).
      rest_name = std::string(kraken::v1_asset(inst->base)) + std::string(kraken::v1_asset(inst->quote));
    }
    return make_subscription(unified, *inst, inst->pair, std::move(rest_name));
  }

  std::size_t max_subscriptions_per_connection() const override { return 200; }

  std::vector<std::string> subscribe_requests(const std::vector<subscription>& subs) override {
    std::vector<std::string> out;
    for (std::size_t begin = 0; begin < subs.size(); begin += symbols_per_request) {
      std::vector<std::string> pairs;
      for (std::size_t i = begin; i < subs.size() && i < begin + symbols_per_request; ++i)
        pairs.push_back(subs[i].wire);
      out.push_back(kraken::subscribe_request(pairs));
    }
    return out;
  }

  std::vector<std::string> unsubscribe_requests(const std::vector<subscription>& subs) override {
    std::vector<std::string> out;
    for (std::size_t begin = 0; begin < subs.size(); begin += symbols_per_request) {
      std::vector<std::string> pairs;
      for (std::size_t i = begin; i < subs.size() && i < begin + symbols_per_request; ++i)
        pairs.push_back(subs[i].wire);
      out.push_back(kraken::unsubscribe_request(pairs));
    }
    return out;
  }

  // Books: WebSocket v2 `book` at the smallest Kraken depth (10, 25, 100, 500, 1000) at or above `depth`, a snapshot
  // on subscribe, then updates with a CRC32 checksum of the top 10; a resync unsubscribes and subscribes again.
  bool supports_books() const override { return true; }

  std::vector<std::string> book_subscribe_requests(const std::vector<subscription>& subs, std::size_t depth) override {
    return book_requests("subscribe", subs, depth);
  }

  std::vector<std::string> book_unsubscribe_requests(const std::vector<subscription>& subs,
                                                     std::size_t depth) override {
    return book_requests("unsubscribe", subs, depth);
  }

  // {"channel":"book","type":"snapshot|update","data":[{"symbol":"BTC/USD",...,"timestamp":"RFC 3339"}]}
  std::optional<book_route> book_frame(std::string_view frame) override {
    if (frame.find("\"book\"") == std::string_view::npos || frame.find("\"data\"") == std::string_view::npos ||
        !mi::connectors::book_json::wrapped_in(frame, '{', '}'))
      return std::nullopt;
    namespace od = simdjson::ondemand;
    od::document doc;
    od::object root;
    if (route_reader_.iterate(frame).get(doc) || doc.get_object().get(root))
      return std::nullopt;
    book_route r;
    bool book = false;
    for (auto field : root) {
      std::string_view key;
      od::value v;
      if (field.unescaped_key().get(key) || field.value().get(v))
        return std::nullopt;
      std::string_view text;
      if (key == "channel") {
        book = !v.get_string().get(text) && text == "book";
      } else if (key == "data") {
        od::array data;
        if (v.get_array().get(data))
          return std::nullopt;
        for (auto item : data) {
          od::object obj;
          if (item.get_object().get(obj))
            return std::nullopt;
          for (auto f : obj) {
            std::string_view k;
            std::string_view t;
            if (f.unescaped_key().get(k) || f.value().get_string().get(t))
              continue;
            if (k == "symbol")
              r.key = std::string(t);
            else if (k == "timestamp")
              r.ts_ns = mi::connectors::text::parse_rfc3339_ns(t).value_or(0);
          }
          break;
        }
      }
    }
    if (!book || r.key.empty())
      return std::nullopt;
    return r;
  }

  std::string book_key(const subscription& s) const override { return s.wire; }

  int control_messages_per_second() const override { return 5; }

  mi::result<events> decode(std::string_view frame, std::int64_t recv_ns) override {
    auto r = codec_.decode(frame, recv_ns);
    if (!r)
      return r.err();
    events out;
    using k = kraken::frame_events::kind;
    switch (r->what) {
    case k::trades:
      if (!r->trades.empty()) {
        out.what = events::kind::trades;
        out.trades = std::move(r->trades);
      }
      break;
    case k::ack:
      out.what = events::kind::ack;
      break;
    case k::error:
      out.what = events::kind::error;
      out.message = std::move(r->error_message);
      out.rejected = rejected_symbol(frame);
      break;
    case k::heartbeat:
      out.what = events::kind::heartbeat;
      break;
    case k::ignored:
      break;
    }
    return out;
  }

  // Same rule as Bybit's: a ping every period whatever the traffic, dead when one goes unanswered for a period.
  void on_open(std::int64_t now_ns) override {
    heartbeat_ = bybit::heartbeat{ping_interval_ns};
    heartbeat_.ping_due(now_ns); // starts the clock at the connection's opening
  }
  void on_frame(std::int64_t now_ns) override { heartbeat_.on_received(now_ns); }
  std::optional<std::string> ping_due(std::int64_t now_ns) override {
    if (!heartbeat_.ping_due(now_ns))
      return std::nullopt;
    return R"({"method":"ping","req_id":)" + std::to_string(next_req_id_++) + "}";
  }
  bool heartbeat_timed_out(std::int64_t now_ns) const override { return heartbeat_.timed_out(now_ns); }

  bool sequential_ids() const override { return true; }

  std::optional<rest_request> history_request(const subscription& s, const gap& g) const override {
    // Paging is by time: without the time of the trade before the gap, `since` would start at the
    // pair's first trade ever (years of pages at 1 request/s). Such a gap cannot be filled.
    if (g.after_ts_ns <= 0)
      return std::nullopt;
    pages_.start(s.symbol, g, g.after_ts_ns);
    return request_since(s, std::to_string(g.after_ts_ns));
  }

  mi::result<history_page> parse_history(const subscription& s, const gap& g, std::string_view body) override {
    auto page = kraken::parse_trades(body, kraken::instrument{s.symbol, s.base, s.quote, s.wire, {}});
    if (!page)
      return rest_error(name(), "history", page.err());
    page_filter f = filter_to_gap(std::move(page->trades), g);
    // Forward by time: the next page starts at `last`, until the gap's last id has been seen. `since` is
    // inclusive, so pages overlap by the trades of their boundary instant: page_memory hands each out once,
    // and stops when `last` does not move (a page full of one instant's trades).
    std::optional<std::int64_t> next;
    if (f.returned != 0 && f.max_id && *f.max_id < g.last_id)
      next = mi::connectors::rest::digits_to_int(page->last); // a time in ns, as digits
    auto [fresh, go_on] = pages_.on_page(s.symbol, g, std::move(f.kept), next);
    history_page out;
    out.trades = std::move(fresh);
    if (go_on)
      out.next = request_since(s, page->last);
    return out;
  }

  std::optional<rest_request> recent_request(const subscription&) const override { return std::nullopt; }

  mi::result<std::vector<mi::trade>> parse_recent(const subscription&, std::string_view) override {
    return mi::error{"kraken: no recent-trades polling (ids are sequential: use history)"};
  }

  // Kraken public REST: about 1 request/s per IP ("EGeneral:Too many requests" / 429 beyond).
  std::unique_ptr<mi::book::book_codec> make_book_codec(std::size_t subscribed_depth) const override {
    return std::make_unique<kraken::book_sync>(subscribed_depth == 0 ? 0
                                                                     : kraken::book_depth_at_least(subscribed_depth));
  }

  rest_limits limits() const override {
    rest_limits l;
    l.min_interval_ns = 1'000'000'000;
    return l;
  }

private:
  std::vector<std::string> book_requests(const char* method, const std::vector<subscription>& subs,
                                         std::size_t depth) const {
    const std::size_t n = kraken::book_depth_at_least(depth);
    std::vector<std::string> out;
    for (std::size_t begin = 0; begin < subs.size(); begin += symbols_per_request) {
      std::vector<std::string> pairs;
      for (std::size_t i = begin; i < subs.size() && i < begin + symbols_per_request; ++i)
        pairs.push_back(subs[i].wire);
      std::string req = std::string(R"({"method":")") + method + R"(","params":{"channel":"book","symbol":)";
      mi::connectors::text::append_json_string_array(req, pairs);
      req += ",\"depth\":" + std::to_string(n) + "}}";
      out.push_back(std::move(req));
    }
    return out;
  }

  mi::connectors::book_json::reader route_reader_; ///< book_frame()'s parser

  static rest_request request_since(const subscription& s, const std::string& since_ns) {
    return {"/0/public/Trades?pair=" + s.rest + "&since=" + since_ns + "&count=" + std::to_string(page_limit)};
  }

  /// The normalized symbol of a refusal's "symbol" field ({"error":"Currency pair not supported XBT/USD",
  /// "symbol":"XBT/USD",...} -> "BTCUSD"), or "".
  std::string rejected_symbol(std::string_view frame) {
    simdjson::dom::element doc;
    if (error_parser_.parse(frame.data(), frame.size()).get(doc))
      return {};
    std::string_view pair;
    if (doc["symbol"].get_string().get(pair))
      return {};
    auto inst = kraken::from_wire(pair);
    return inst ? inst->symbol : std::string();
  }

  const std::map<std::string, std::string>* altnames_ = nullptr; ///< normalized symbol -> REST altname, in table_
  instruments_ptr table_;                                        ///< the shared instruments, kept alive
  bool loaded_ = false;
  kraken::codec codec_;
  simdjson::dom::parser error_parser_; ///< only for error frames
  bybit::heartbeat heartbeat_{ping_interval_ns};
  std::int64_t next_req_id_ = 1;
  mutable page_memory pages_{page_memory::direction::forward}; ///< restarted by the const history_request
};

} // namespace

std::unique_ptr<venue> make_kraken(const venue_options&) { return std::make_unique<kraken_venue>(); }

} // namespace mi::venue::detail
