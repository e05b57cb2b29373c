// Bybit v5 spot: publicTrade.<SYMBOL> topics (10 per request), {"op":"ping"} every 20 s, no sequential
// trade ids (execIds), so no history by id: /v5/market/recent-trade is polled instead.

#include <string>

#include "connectors/bybit/book.hpp"
#include "connectors/bybit/codec.hpp"
#include "connectors/bybit/instruments.hpp"
#include "connectors/bybit/rest.hpp"
#include "connectors/book_json.hpp"
#include "connectors/json_text.hpp"
#include "connectors/venue/detail.hpp"

namespace mi::venue::detail {
namespace {

/// Bybit spot's most trades per recent-trade request.
constexpr int recent_limit = 60;

/// The symbol of the publicTrade topic a Bybit error names ("Invalid topic :[publicTrade.XYZUSDT]" -> "XYZUSDT"), or
/// "".
std::string_view topic_symbol_in(std::string_view message) {
  constexpr std::string_view key = "publicTrade.";
  const auto at = message.find(key);
  if (at == std::string_view::npos)
    return {};
  const auto begin = at + key.size();
  auto end = begin;
  while (end < message.size() && mi::connectors::text::is_upper_alnum(message[end]))
    ++end;
  return message.substr(begin, end - begin);
}

class bybit_venue final : public venue {
public:
  bybit_venue() : codec_(meta_) {}

  std::string_view name() const override { return "bybit"; }

  rest_request instruments_request() const override { return {"/v5/market/instruments-info?category=spot"}; }

  mi::result<instruments_ptr> parse_instruments(std::string_view body) const override {
    auto parsed = bybit::instruments::from_instruments_info(body);
    if (!parsed)
      return rest_error(name(), "instruments", parsed.err());
    const auto n = parsed->size();
    return share_instruments(name(), std::move(*parsed), n);
  }

  bool use_instruments(instruments_ptr table) override {
    const auto* meta = instruments_of<bybit::instruments>(table, name());
    if (meta == nullptr)
      return false;
    table_ = std::move(table);
    meta_ = meta;
    codec_ = bybit::codec(meta_); // the codec keeps pointing at the shared table
    loaded_ = true;
    return true;
  }

  mi::result<subscription> resolve(std::string_view unified) const override {
    auto inst = bybit::from_unified(unified);
    if (!inst)
      return inst.err();
    if (loaded_) {
      const bybit::instrument* listed = meta_->find(inst->symbol);
      if (listed == nullptr)
        return not_listed(unified, name());
      if (!listed->trading)
        return not_listed(unified, name(), true);
      inst = *listed;
    }
    return make_subscription(unified, *inst, bybit::topic_name(inst->symbol), inst->symbol);
  }

  std::size_t max_subscriptions_per_connection() const override { return 200; }

  std::vector<std::string> subscribe_requests(const std::vector<subscription>& subs) override {
    std::vector<std::string> topics;
    topics.reserve(subs.size());
    for (const subscription& s : subs)
      topics.push_back(s.wire);
    std::vector<std::string> out = bybit::subscribe_requests(topics, next_req_id_, bybit::max_args_per_request);
    next_req_id_ += static_cast<std::int64_t>(out.size());
    return out;
  }

  std::vector<std::string> unsubscribe_requests(const std::vector<subscription>& subs) override {
    std::vector<std::string> topics;
    topics.reserve(subs.size());
    for (const subscription& s : subs)
      topics.push_back(s.wire);
    std::vector<std::string> out = bybit::unsubscribe_requests(topics, next_req_id_, bybit::max_args_per_request);
    next_req_id_ += static_cast<std::int64_t>(out.size());
    return out;
  }

  // Books: orderbook.{depth}.{SYMBOL} (spot depths 1, 50, 200, 1000: the smallest at or above `depth`), a snapshot on
  // subscribe, then deltas with `u` + 1; a resync unsubscribes and subscribes again.
  bool supports_books() const override { return true; }

  std::vector<std::string> book_subscribe_requests(const std::vector<subscription>& subs, std::size_t depth) override {
    std::vector<std::string> out =
      bybit::subscribe_requests(book_topics(subs, depth), next_req_id_, bybit::max_args_per_request);
    next_req_id_ += static_cast<std::int64_t>(out.size());
    return out;
  }

  std::vector<std::string> book_unsubscribe_requests(const std::vector<subscription>& subs,
                                                     std::size_t depth) override {
    std::vector<std::string> out =
      bybit::unsubscribe_requests(book_topics(subs, depth), next_req_id_, bybit::max_args_per_request);
    next_req_id_ += static_cast<std::int64_t>(out.size());
    return out;
  }

  // {"topic":"orderbook.50.BTCUSDT","type":"snapshot|delta","ts":ms,"data":{"s":"BTCUSDT",...}}
  std::optional<book_route> book_frame(std::string_view frame) override {
    if (frame.find("\"orderbook.") == std::string_view::npos || !mi::connectors::book_json::wrapped_in(frame, '{', '}'))
      return std::nullopt;
    namespace od = simdjson::ondemand;
    od::document doc;
    od::object root;
    if (route_reader_.iterate(frame).get(doc) || doc.get_object().get(root))
      return std::nullopt;
    book_route r;
    for (auto field : root) {
      std::string_view key;
      od::value v;
      if (field.unescaped_key().get(key) || field.value().get(v))
        return std::nullopt;
      std::string_view text;
      std::int64_t ms = 0;
      if (key == "topic") {
        if (v.get_string().get(text) || text.substr(0, 10) != "orderbook.")
          return std::nullopt;
        const auto dot = text.find('.', 10);
        if (dot == std::string_view::npos || dot + 1 == text.size())
          return std::nullopt;
        r.key = std::string(text.substr(dot + 1));
      } else if (key == "ts" && !v.get_int64().get(ms) && ms > 0 && ms < 100'000'000'000'000) {
        r.ts_ns = ms * 1'000'000;
      }
    }
    if (r.key.empty())
      return std::nullopt;
    return r;
  }

  std::string book_key(const subscription& s) const override { return s.rest; }

  int control_messages_per_second() const override { return 5; }

  mi::result<events> decode(std::string_view frame, std::int64_t recv_ns) override {
    auto r = codec_.decode(frame, recv_ns);
    if (!r)
      return r.err();
    events out;
    using k = bybit::frame_events::kind;
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
      out.rejected = std::string(topic_symbol_in(out.message)); // Bybit symbols are already normalized
      break;
    case k::pong:
      out.what = events::kind::heartbeat;
      break;
    case k::server_notice:
      break; // never sent by the public spot stream
    case k::ignored:
      break;
    }
    return out;
  }

  void on_open(std::int64_t now_ns) override {
    heartbeat_ = bybit::heartbeat{};
    heartbeat_.ping_due(now_ns); // starts the 20 s clock at the connection's opening
  }
  void on_frame(std::int64_t now_ns) override { heartbeat_.on_received(now_ns); }
  std::optional<std::string> ping_due(std::int64_t now_ns) override {
    if (!heartbeat_.ping_due(now_ns))
      return std::nullopt;
    return bybit::ping_request(std::to_string(next_req_id_++));
  }
  bool heartbeat_timed_out(std::int64_t now_ns) const override { return heartbeat_.timed_out(now_ns); }

  bool sequential_ids() const override { return false; }

  std::optional<rest_request> history_request(const subscription&, const gap&) const override { return std::nullopt; }

  mi::result<history_page> parse_history(const subscription&, const gap&, std::string_view) override {
    return mi::error{"bybit: no trade history by id (execIds are not sequential: poll recent trades)"};
  }

  std::optional<rest_request> recent_request(const subscription& s) const override {
    return rest_request{"/v5/market/recent-trade?category=spot&symbol=" + s.rest +
                        "&limit=" + std::to_string(recent_limit)};
  }

  mi::result<std::vector<mi::trade>> parse_recent(const subscription& s, std::string_view body) override {
    auto trades = bybit::parse_recent_trades(body, bybit::instrument{s.symbol, s.base, s.quote, true});
    if (!trades)
      return rest_error(name(), "recent trades", trades.err());
    return std::move(*trades);
  }

  // Bybit: 600 requests per 5 s per IP (120/s); over it, HTTP 403 "access too frequent" and a ban of at
  // least 10 minutes. 10 requests/s stays far below.
  std::unique_ptr<mi::book::book_codec> make_book_codec(std::size_t) const override {
    return std::make_unique<bybit::book_sync>();
  }

  rest_limits limits() const override {
    rest_limits l;
    l.min_interval_ns = 100'000'000;
    l.ban_status = 403;
    l.default_retry_after_ns = 600'000'000'000;
    return l;
  }

private:
  static std::vector<std::string> book_topics(const std::vector<subscription>& subs, std::size_t depth) {
    std::size_t n = 1000;
    for (std::size_t d : {1, 50, 200, 1000})
      if (d >= depth) {
        n = d;
        break;
      }
    std::vector<std::string> topics;
    topics.reserve(subs.size());
    for (const subscription& s : subs)
      topics.push_back("orderbook." + std::to_string(n) + "." + s.rest);
    return topics;
  }

  mi::connectors::book_json::reader route_reader_; ///< book_frame()'s parser
  bybit::instruments unlisted_;                    ///< before use_instruments: the quote-suffix fallback only
  const bybit::instruments* meta_ = &unlisted_;    ///< unlisted_, or the data of table_
  instruments_ptr table_;                          ///< the shared instruments, kept alive
  bool loaded_ = false;
  bybit::codec codec_; ///< reads *meta_ (declared after it)
  bybit::heartbeat heartbeat_;
  std::int64_t next_req_id_ = 1; ///< shared by subscribe requests and pings
};

} // namespace

std::unique_ptr<venue> make_bybit(const venue_options&) { return std::make_unique<bybit_venue>(); }

} // namespace mi::venue::detail
