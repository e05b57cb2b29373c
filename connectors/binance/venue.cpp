// Binance spot: @trade (or @aggTrade) streams, SUBSCRIBE requests, server pings, serverShutdown notices,
// /api/v3/historicalTrades (or /aggTrades) paged forward by fromId.

#include <string>

#include "connectors/binance/book.hpp"
#include "connectors/binance/codec.hpp"
#include "connectors/binance/instruments.hpp"
#include "connectors/binance/rest.hpp"
#include "connectors/book_json.hpp"
#include "connectors/venue/detail.hpp"

namespace mi::venue::detail {
namespace {

/// Binance's page limit of historicalTrades and aggTrades.
constexpr int page_limit = 1000;
/// Most streams in one SUBSCRIBE request.
constexpr std::size_t streams_per_request = 200;

class binance_venue final : public venue {
public:
  explicit binance_venue(const venue_options& o)
      : kind_(o.binance_agg_trade ? binance::stream_kind::agg_trade : binance::stream_kind::trade), codec_(meta_) {}

  std::string_view name() const override { return "binance"; }

  rest_request instruments_request() const override { return {"/api/v3/exchangeInfo"}; }

  mi::result<instruments_ptr> parse_instruments(std::string_view body) const override {
    auto parsed = binance::instruments::from_exchange_info(body);
    if (!parsed)
      return rest_error(name(), "exchangeInfo", parsed.err());
    const auto n = parsed->size();
    return share_instruments(name(), std::move(*parsed), n);
  }

  bool use_instruments(instruments_ptr table) override {
    const auto* meta = instruments_of<binance::instruments>(table, name());
    if (meta == nullptr)
      return false;
    table_ = std::move(table);
    meta_ = meta;
    codec_ = binance::codec(meta_); // the codec keeps pointing at the shared table
    loaded_ = true;
    return true;
  }

  mi::result<subscription> resolve(std::string_view unified) const override {
    auto inst = binance::from_unified(unified);
    if (!inst)
      return inst.err();
    if (loaded_) {
      const binance::instrument* listed = meta_->find(inst->symbol);
      if (listed == nullptr)
        return not_listed(unified, name());
      if (!listed->trading)
        return not_listed(unified, name(), true);
      inst = *listed;
    }
    return make_subscription(unified, *inst, binance::stream_name(inst->symbol, kind_), inst->symbol);
  }

  std::size_t max_subscriptions_per_connection() const override { return 1024; }

  std::vector<std::string> subscribe_requests(const std::vector<subscription>& subs) override {
    std::vector<std::string> streams;
    streams.reserve(subs.size());
    for (const subscription& s : subs)
      streams.push_back(s.wire);
    std::vector<std::string> out = binance::subscribe_requests(streams, next_request_id_, streams_per_request);
    next_request_id_ += static_cast<std::int64_t>(out.size());
    return out;
  }

  std::vector<std::string> unsubscribe_requests(const std::vector<subscription>& subs) override {
    std::vector<std::string> streams;
    streams.reserve(subs.size());
    for (const subscription& s : subs)
      streams.push_back(s.wire);
    std::vector<std::string> out = binance::unsubscribe_requests(streams, next_request_id_, streams_per_request);
    next_request_id_ += static_cast<std::int64_t>(out.size());
    return out;
  }

  int control_messages_per_second() const override { return 5; }

  mi::result<events> decode(std::string_view frame, std::int64_t recv_ns) override {
    auto r = codec_.decode(frame, recv_ns);
    if (!r)
      return r.err();
    events out;
    using k = binance::frame_events::kind;
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
      out.message = std::move(r->error_message); // Binance does not say which stream it refused
      break;
    case k::server_shutdown:
      out.what = events::kind::reconnect_notice;
      out.message = "serverShutdown";
      break;
    case k::ignored:
      break;
    }
    return out;
  }

  // Binance pings (WebSocket ping frames, answered by the transport); the client sends nothing.
  void on_open(std::int64_t) override {}
  void on_frame(std::int64_t) override {}
  std::optional<std::string> ping_due(std::int64_t) override { return std::nullopt; }
  bool heartbeat_timed_out(std::int64_t) const override { return false; }

  bool sequential_ids() const override { return true; }

  std::optional<rest_request> history_request(const subscription& s, const gap& g) const override {
    pages_.start(s.symbol, g, g.first_id);
    return request_from(s, g.first_id);
  }

  mi::result<history_page> parse_history(const subscription& s, const gap& g, std::string_view body) override {
    const binance::instrument inst{s.symbol, s.base, s.quote, true};
    auto trades = kind_ == binance::stream_kind::trade ? binance::parse_historical_trades(body, inst)
                                                       : binance::parse_agg_trades(body, inst);
    if (!trades)
      return rest_error(name(), "history", trades.err());
    page_filter f = filter_to_gap(std::move(*trades), g);
    // Forward: the next page starts after the highest id returned, until the gap's last id.
    std::optional<std::int64_t> next;
    if (f.returned != 0 && f.max_id && *f.max_id < g.last_id)
      next = *f.max_id + 1;
    auto [fresh, go_on] = pages_.on_page(s.symbol, g, std::move(f.kept), next);
    history_page out;
    out.trades = std::move(fresh);
    if (go_on)
      out.next = request_from(s, *next);
    return out;
  }

  std::optional<rest_request> recent_request(const subscription&) const override { return std::nullopt; }

  mi::result<std::vector<mi::trade>> parse_recent(const subscription&, std::string_view) override {
    return mi::error{"binance: no recent-trades polling (ids are sequential: use history)"};
  }

  // Binance spot: REQUEST_WEIGHT 6000 per minute per IP, reported in X-MBX-USED-WEIGHT-1M; historicalTrades
  // weighs 25, aggTrades 4; 429 carries Retry-After, and an IP that keeps going after it gets 418 (banned
  // from 2 minutes up to 3 days, also with Retry-After). 10 requests/s at most on top of the weight budget.
  std::unique_ptr<mi::book::book_codec> make_book_codec(std::size_t) const override {
    return std::make_unique<binance::book_sync>();
  }

  // Books: the diff-depth stream <symbol>@depth@100ms, synced with the REST /api/v3/depth snapshot.
  bool supports_books() const override { return true; }

  std::vector<std::string> book_subscribe_requests(const std::vector<subscription>& subs, std::size_t) override {
    std::vector<std::string> out =
      binance::subscribe_requests(book_streams(subs), next_request_id_, streams_per_request);
    next_request_id_ += static_cast<std::int64_t>(out.size());
    return out;
  }

  std::vector<std::string> book_unsubscribe_requests(const std::vector<subscription>& subs, std::size_t) override {
    std::vector<std::string> out =
      binance::unsubscribe_requests(book_streams(subs), next_request_id_, streams_per_request);
    next_request_id_ += static_cast<std::int64_t>(out.size());
    return out;
  }

  // {"e":"depthUpdate","E":ms,"s":"BTCUSDT",...}, raw or in a combined stream's "data".
  std::optional<book_route> book_frame(std::string_view frame) override {
    if (frame.find("\"depthUpdate\"") == std::string_view::npos ||
        !mi::connectors::book_json::wrapped_in(frame, '{', '}'))
      return std::nullopt;
    namespace od = simdjson::ondemand;
    od::document doc;
    od::object root;
    if (route_reader_.iterate(frame).get(doc) || doc.get_object().get(root))
      return std::nullopt;
    od::object event = root;
    if (frame.find("\"stream\"") != std::string_view::npos) { // combined stream: {"stream":..,"data":{..}}
      od::value data;
      if (root.find_field_unordered("data").get(data) || data.get_object().get(event))
        return std::nullopt;
    }
    book_route r;
    bool depth = false;
    for (auto field : event) {
      std::string_view key;
      od::value v;
      if (field.unescaped_key().get(key) || field.value().get(v))
        return std::nullopt;
      std::string_view text;
      std::int64_t ms = 0;
      if (key == "e")
        depth = !v.get_string().get(text) && text == "depthUpdate";
      else if (key == "s" && !v.get_string().get(text))
        r.key = std::string(text);
      else if (key == "E" && !v.get_int64().get(ms) && ms > 0 && ms < 100'000'000'000'000)
        r.ts_ns = ms * 1'000'000;
    }
    if (!depth || r.key.empty())
      return std::nullopt;
    return r;
  }

  std::string book_key(const subscription& s) const override { return s.rest; }

  std::optional<rest_request> book_snapshot_request(const subscription& s, std::size_t depth) const override {
    // The documented limits: 5, 10, 20, 50, 100, 500, 1000, 5000; the book needs at least `depth` levels.
    std::size_t limit = 5000;
    for (std::size_t l : {5, 10, 20, 50, 100, 500, 1000, 5000})
      if (l >= depth) {
        limit = l;
        break;
      }
    return rest_request{"/api/v3/depth?symbol=" + s.rest + "&limit=" + std::to_string(limit)};
  }

  rest_limits limits() const override {
    rest_limits l;
    l.min_interval_ns = 100'000'000;
    l.weight_per_minute = 6000;
    l.request_weight = kind_ == binance::stream_kind::trade ? 25 : 4;
    l.used_weight_header = "x-mbx-used-weight-1m";
    l.ban_status = 418;
    return l;
  }

private:
  rest_request request_from(const subscription& s, std::int64_t from_id) const {
    const char* path = kind_ == binance::stream_kind::trade ? "/api/v3/historicalTrades" : "/api/v3/aggTrades";
    return {std::string(path) + "?symbol=" + s.rest + "&fromId=" + std::to_string(from_id) +
            "&limit=" + std::to_string(page_limit)};
  }

  static std::vector<std::string> book_streams(const std::vector<subscription>& subs) {
    std::vector<std::string> streams;
    streams.reserve(subs.size());
    for (const subscription& s : subs) {
      std::string name;
      for (char c : s.symbol)
        name += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
      streams.push_back(name + "@depth@100ms");
    }
    return streams;
  }

  binance::stream_kind kind_;
  mi::connectors::book_json::reader route_reader_; ///< book_frame()'s parser
  binance::instruments unlisted_;                  ///< before use_instruments: the quote-suffix fallback only
  const binance::instruments* meta_ = &unlisted_;  ///< unlisted_, or the data of table_
  instruments_ptr table_;                          ///< the shared instruments, kept alive
  bool loaded_ = false;
  binance::codec codec_; ///< reads *meta_ (declared after it)
  std::int64_t next_request_id_ = 1;
  mutable page_memory pages_{page_memory::direction::forward}; ///< restarted by the const history_request
};

} // namespace

std::unique_ptr<venue> make_binance(const venue_options& o) { return std::make_unique<binance_venue>(o); }

} // namespace mi::venue::detail
