// Coinbase: Advanced Trade market_trades + heartbeats channels by product id, no client ping (the
// heartbeats channel proves life), Exchange REST /products/<id>/trades paged backward by trade_id; books: the
// level2 channel (l2_data messages), whose continuity is the connection's sequence_num.

#include <set>
#include <string>

#include "connectors/book_json.hpp"
#include "connectors/coinbase/book.hpp"
#include "connectors/coinbase/codec.hpp"
#include "connectors/coinbase/instruments.hpp"
#include "connectors/coinbase/rest.hpp"
#include "connectors/time_text.hpp"
#include "connectors/venue/detail.hpp"

namespace mi::venue::detail {
namespace {

/// Coinbase Exchange's page limit of /products/<id>/trades.
constexpr int page_limit = 1000;
/// The heartbeats channel sends one frame a second: this long without any frame, once heartbeats
/// have been seen on the connection, means it is dead.
constexpr std::int64_t silence_limit_ns = 30'000'000'000;

class coinbase_venue final : public venue {
public:
  std::string_view name() const override { return "coinbase"; }

  rest_request instruments_request() const override { return {"/products"}; }

  mi::result<instruments_ptr> parse_instruments(std::string_view body) const override {
    auto parsed = coinbase::parse_products(body);
    if (!parsed)
      return rest_error(name(), "products", parsed.err());
    std::set<std::string> listed;
    for (const coinbase::instrument& i : *parsed)
      listed.insert(i.product_id);
    const auto n = listed.size();
    return share_instruments(name(), std::move(listed), n);
  }

  bool use_instruments(instruments_ptr table) override {
    const auto* listed = instruments_of<std::set<std::string>>(table, name());
    if (listed == nullptr)
      return false;
    table_ = std::move(table);
    listed_ = listed;
    loaded_ = true;
    return true;
  }

  mi::result<subscription> resolve(std::string_view unified) const override {
    auto inst = coinbase::from_unified(unified);
    if (!inst)
      return inst.err();
    if (loaded_ && listed_->count(inst->product_id) == 0)
      return not_listed(unified, name());
    return make_subscription(unified, *inst, inst->product_id, inst->product_id);
  }

  std::size_t max_subscriptions_per_connection() const override { return 100; }

  std::vector<std::string> subscribe_requests(const std::vector<subscription>& subs) override {
    if (subs.empty())
      return {};
    std::vector<std::string> product_ids;
    product_ids.reserve(subs.size());
    for (const subscription& s : subs)
      product_ids.push_back(s.wire);
    return coinbase::subscribe_requests(product_ids); // market_trades, then heartbeats
  }

  std::vector<std::string> unsubscribe_requests(const std::vector<subscription>& subs) override {
    if (subs.empty())
      return {};
    std::vector<std::string> product_ids;
    product_ids.reserve(subs.size());
    for (const subscription& s : subs)
      product_ids.push_back(s.wire);
    return {coinbase::unsubscribe_request(product_ids, "market_trades")}; // heartbeats stay
  }

  int control_messages_per_second() const override { return 5; }

  // Books: the level2 channel (the whole book: a snapshot event on subscribe, then update events). Every message of
  // the connection carries sequence_num: connection_sequence checks them all, and a break resyncs every book of the
  // connection by unsubscribing and subscribing level2 again (a new snapshot), as Coinbase documents it.
  bool supports_books() const override { return true; }

  std::vector<std::string> book_subscribe_requests(const std::vector<subscription>& subs, std::size_t) override {
    if (subs.empty())
      return {};
    return {coinbase::subscribe_request(product_ids_of(subs), "level2")};
  }

  std::vector<std::string> book_unsubscribe_requests(const std::vector<subscription>& subs, std::size_t) override {
    if (subs.empty())
      return {};
    return {coinbase::unsubscribe_request(product_ids_of(subs), "level2")};
  }

  // {"channel":"l2_data","timestamp":"2023-02-09T20:32:50.714964855Z","sequence_num":4,"events":[{"type":"update",
  // "product_id":"BTC-USD","updates":[...]}]}
  std::optional<book_route> book_frame(std::string_view frame) override {
    if (frame.find("\"l2_data\"") == std::string_view::npos || !mi::connectors::book_json::wrapped_in(frame, '{', '}'))
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
      if (key == "channel") {
        std::string_view ch;
        if (v.get_string().get(ch))
          return std::nullopt;
        book = ch == "l2_data";
      } else if (key == "timestamp") {
        std::string_view t;
        if (!v.get_string().get(t))
          if (auto ns = mi::connectors::text::parse_rfc3339_ns(t))
            r.ts_ns = *ns;
      } else if (key == "events" && book) {
        od::array events;
        if (v.get_array().get(events))
          return std::nullopt;
        for (auto ev : events) {
          od::object obj;
          od::value id;
          std::string_view text;
          if (!ev.get_object().get(obj) && !obj.find_field_unordered("product_id").get(id) &&
              !id.get_string().get(text))
            r.key = std::string(text);
          break; // Coinbase sends one product per l2_data message
        }
      }
    }
    if (!book || r.key.empty())
      return std::nullopt;
    return r;
  }

  std::string book_key(const subscription& s) const override { return s.wire; }

  std::unique_ptr<mi::book::book_codec> make_live_book_codec(std::size_t) const override {
    return std::make_unique<coinbase::book_sync>(coinbase::sequence_scope::connection);
  }

  std::optional<std::string> connection_sequence_break(std::string_view frame) override {
    return sequence_.on_frame(frame);
  }

  mi::result<events> decode(std::string_view frame, std::int64_t recv_ns) override {
    auto r = codec_.decode(frame, recv_ns);
    if (!r)
      return r.err();
    events out;
    using k = coinbase::frame_events::kind;
    switch (r->what) {
    case k::trades:
      if (!r->trades.empty()) { // snapshots and updates may be empty
        out.what = events::kind::trades;
        out.trades = std::move(r->trades);
      }
      break;
    case k::ack:
      out.what = events::kind::ack;
      break;
    case k::error:
      out.what = events::kind::error;
      out.message = std::move(r->error_message); // Coinbase does not say which product it refused
      break;
    case k::heartbeat:
      out.what = events::kind::heartbeat;
      heartbeats_seen_ = true;
      break;
    case k::ignored:
      break;
    }
    return out;
  }

  void on_open(std::int64_t now_ns) override {
    heartbeats_seen_ = false;
    sequence_.reset();
    last_frame_ns_ = now_ns;
  }
  void on_frame(std::int64_t now_ns) override { last_frame_ns_ = now_ns; }
  std::optional<std::string> ping_due(std::int64_t) override { return std::nullopt; }
  bool heartbeat_timed_out(std::int64_t now_ns) const override {
    return heartbeats_seen_ && now_ns - last_frame_ns_ >= silence_limit_ns;
  }

  bool sequential_ids() const override { return true; }

  std::optional<rest_request> history_request(const subscription& s, const gap& g) const override {
    pages_.start(s.symbol, g, g.last_id + 1);
    return request_after(s, g.last_id + 1);
  }

  mi::result<history_page> parse_history(const subscription& s, const gap& g, std::string_view body) override {
    auto trades = coinbase::parse_trades(body, coinbase::instrument{s.symbol, s.base, s.quote, s.rest});
    if (!trades)
      return rest_error(name(), "history", trades.err());
    page_filter f = filter_to_gap(std::move(*trades), g);
    // Backward: the page held ids below `after`; the next one starts below the smallest returned.
    std::optional<std::int64_t> next;
    if (f.returned != 0 && f.min_id && *f.min_id > g.first_id)
      next = *f.min_id;
    auto [fresh, go_on] = pages_.on_page(s.symbol, g, std::move(f.kept), next);
    history_page out;
    out.trades = std::move(fresh);
    if (go_on)
      out.next = request_after(s, *next);
    return out;
  }

  std::optional<rest_request> recent_request(const subscription&) const override { return std::nullopt; }

  mi::result<std::vector<mi::trade>> parse_recent(const subscription&, std::string_view) override {
    return mi::error{"coinbase: no recent-trades polling (ids are sequential: use history)"};
  }

  // Coinbase Exchange public endpoints: 10 requests/s per IP (bursts up to 15), 429 beyond.
  std::unique_ptr<mi::book::book_codec> make_book_codec(std::size_t) const override {
    return std::make_unique<coinbase::book_sync>();
  }

  rest_limits limits() const override {
    rest_limits l;
    l.min_interval_ns = 150'000'000;
    return l;
  }

private:
  static std::vector<std::string> product_ids_of(const std::vector<subscription>& subs) {
    std::vector<std::string> ids;
    ids.reserve(subs.size());
    for (const subscription& s : subs)
      ids.push_back(s.wire);
    return ids;
  }

  static rest_request request_after(const subscription& s, std::int64_t after) {
    return {"/products/" + s.rest + "/trades?after=" + std::to_string(after) + "&limit=" + std::to_string(page_limit)};
  }

  const std::set<std::string>* listed_ = nullptr; ///< online product ids, in table_
  instruments_ptr table_;                         ///< the shared instruments, kept alive
  bool loaded_ = false;
  coinbase::codec codec_;
  bool heartbeats_seen_ = false;
  std::int64_t last_frame_ns_ = 0;
  mutable page_memory pages_{page_memory::direction::backward}; ///< restarted by the const history_request
  mi::connectors::book_json::reader route_reader_;              ///< book_frame()'s parser
  coinbase::connection_sequence sequence_;                      ///< the connection's sequence_num
};

} // namespace

std::unique_ptr<venue> make_coinbase(const venue_options&) { return std::make_unique<coinbase_venue>(); }

} // namespace mi::venue::detail
