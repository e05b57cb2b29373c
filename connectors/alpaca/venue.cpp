// Alpaca market data v2 (US equities): one stream connection per account (Alpaca refuses a second with 406), auth by
// message with the key id and secret (from the environment), then subscribe trades, quotes, bars, updatedBars,
// dailyBars and statuses. Trade ids are per market center, not one sequence: gaps are backfilled by time range from
// REST /v2/stocks/{symbol}/trades, paged by next_page_token, and trades are deduplicated by (id, exchange code).

#include <set>
#include <string>

#include "connectors/alpaca/book.hpp"
#include "connectors/alpaca/codec.hpp"
#include "connectors/alpaca/market_events.hpp"
#include "connectors/alpaca/rest.hpp"
#include "connectors/venue/detail.hpp"

namespace mi::venue::detail {
namespace {

/// Tickers per subscribe message (each named in six channels).
constexpr std::size_t tickers_per_request = 100;
/// Alpaca's documented historical-data limit when the config names none: 200 requests per minute.
constexpr std::int64_t default_requests_per_minute = 200;

using listed_symbols = std::set<std::string>; // normalized symbols of active, tradable assets

/// The channels the platform subscribes (docs/protocols.md "Alpaca"): trades (with Alpaca's corrections and
/// cancelErrors) feed MARKET_RAW; quotes (exchanges.alpaca.quotes) MARKET_QUOTE; statuses (exchanges.alpaca.statuses)
/// MARKET_STATUS; bars are decoded (and checked) but not published.
mi::alpaca::channels subscribed_channels(const venue_options& o) {
  mi::alpaca::channels ch;
  ch.trades = ch.bars = ch.updated_bars = ch.daily_bars = true;
  ch.quotes = o.quotes;
  ch.statuses = o.statuses;
  return ch;
}

class alpaca_venue final : public venue {
public:
  explicit alpaca_venue(const venue_options& o) : opts_(o) {}

  std::string_view name() const override { return "alpaca"; }

  rest_request instruments_request() const override {
    return with_auth(rest_request{"/v2/assets?status=active&asset_class=us_equity", {}});
  }

  mi::result<instruments_ptr> parse_instruments(std::string_view body) const override {
    auto assets = mi::alpaca::parse_assets(body);
    if (!assets)
      return rest_error(name(), "assets", assets.err());
    listed_symbols listed;
    for (const auto& a : *assets)
      if (a.tradable && a.status == "active")
        if (auto sym = mi::alpaca::normalize_symbol(a.symbol))
          listed.insert(*sym);
    const auto n = listed.size();
    return share_instruments(name(), std::move(listed), n);
  }

  bool use_instruments(instruments_ptr table) override {
    const auto* listed = instruments_of<listed_symbols>(table, name());
    if (listed == nullptr)
      return false;
    table_ = std::move(table);
    listed_ = listed;
    return true;
  }

  /// "AAPL" (or "AAPL/USD", the BASE/QUOTE form of the other venues) -> symbol AAPL, base AAPL, quote USD; "BRK.B"
  /// -> symbol BRK_B (wire and REST keep BRK.B).
  mi::result<subscription> resolve(std::string_view unified) const override {
    std::string_view ticker = unified;
    if (const auto slash = unified.find('/'); slash != std::string_view::npos) {
      if (unified.substr(slash + 1) != "USD")
        return mi::error{std::string(unified) + ": alpaca symbols are US equities quoted in USD (AAPL or AAPL/USD)"};
      ticker = unified.substr(0, slash);
    }
    auto sym = mi::alpaca::normalize_symbol(ticker);
    if (!sym)
      return mi::error{std::string(unified) + ": not an alpaca ticker (A-Z, 0-9 and '.', e.g. AAPL, BRK.B)"};
    if (listed_ != nullptr && listed_->count(*sym) == 0)
      return not_listed(unified, name());
    const std::string t(ticker);
    return subscription{t, *sym, *sym, "USD", t, t};
  }

  // Alpaca allows one stream connection per account: every symbol on it.
  std::size_t max_subscriptions_per_connection() const override { return 1'000'000; }

  std::vector<std::string> subscribe_requests(const std::vector<subscription>& subs) override {
    std::vector<std::string> out;
    if (need_auth_) { // the first control message of a connection authenticates it
      out.push_back(mi::alpaca::auth_request(opts_.key_id, opts_.secret_key));
      need_auth_ = false;
    }
    append_requests(subs, false, out);
    return out;
  }

  std::vector<std::string> unsubscribe_requests(const std::vector<subscription>& subs) override {
    std::vector<std::string> out;
    append_requests(subs, true, out);
    return out;
  }

  int control_messages_per_second() const override { return 5; }

  mi::result<events> decode(std::string_view frame, std::int64_t recv_ns) override {
    auto r = codec_.decode(frame, recv_ns);
    if (!r)
      return r.err();
    events out;
    if (opts_.quotes)
      for (const auto& q : r->quotes)
        out.side.push_back({mi::alpaca::quote_subject(q.symbol), mi::alpaca::quote_msg_id(q),
                            std::string(mi::alpaca::quote_content_type), mi::alpaca::quote_pb(q, recv_ns)});
    if (opts_.statuses)
      for (const auto& s : r->statuses)
        out.side.push_back({mi::alpaca::status_subject(s.symbol), mi::alpaca::status_msg_id(s),
                            std::string(mi::alpaca::status_content_type), mi::alpaca::status_pb(s, recv_ns)});
    // Corrections and cancels travel with the trades, after them (a frame may correct a trade it carries), as
    // amendments on the same subject (docs/protocols.md "Alpaca", "Corrections and cancels").
    if (!r->trades.empty() || !r->corrections.empty() || !r->cancels.empty()) {
      out.what = events::kind::trades;
      out.trades = std::move(r->trades);
      for (const auto& c : r->corrections)
        out.trades.push_back(mi::alpaca::amendment_of(c, recv_ns));
      for (const auto& c : r->cancels)
        out.trades.push_back(mi::alpaca::amendment_of(c, recv_ns));
      return out;
    }
    for (const auto& c : r->controls) {
      using k = mi::alpaca::control::kind;
      switch (c.what) {
      case k::subscription:
        out.what = events::kind::ack;
        break;
      case k::connected:
      case k::authenticated:
      case k::other_success:
        out.what = events::kind::heartbeat;
        break;
      case k::error:
        out.what = events::kind::error;
        out.message = "alpaca error " + std::to_string(c.code) + ": " + c.message;
        if (mi::alpaca::is_auth_error(c.code)) {
          // Refused credentials (or plan): Alpaca does not stream to this connection. Close it; the connection
          // reconnects with its growing backoff instead of retrying at once.
          out.message += " (the connection is closed and retried with backoff; check MI_ALPACA_KEY_ID, "
                         "MI_ALPACA_SECRET_KEY and the feed of ws_url)";
          refused_ = true;
        }
        return out;
      }
    }
    return out; // bars: decoded, not published (docs/protocols.md); quotes and statuses in `side`
  }

  void on_open(std::int64_t) override {
    need_auth_ = true;
    refused_ = false;
  }
  void on_frame(std::int64_t) override {}
  // Alpaca's server pings at the WebSocket level (answered by the transport); there is no application heartbeat.
  std::optional<std::string> ping_due(std::int64_t) override { return std::nullopt; }
  // After an auth error the connection is useless: reported as dead so that it is closed and retried with backoff.
  bool heartbeat_timed_out(std::int64_t) const override { return refused_; }

  bool sequential_ids() const override { return false; }
  bool backfills_by_time() const override { return true; }

  std::optional<rest_request> history_request(const subscription& s, const gap& g) const override {
    if (g.after_ts_ns <= 0 || g.before_ts_ns < g.after_ts_ns)
      return std::nullopt;
    return with_auth(
      rest_request{mi::alpaca::trades_target(s.rest, g.after_ts_ns, g.before_ts_ns, mi::alpaca::max_page_limit), {}});
  }

  mi::result<history_page> parse_history(const subscription& s, const gap& g, std::string_view body) override {
    auto page = mi::alpaca::parse_trades_page(body, 0);
    if (!page)
      return rest_error(name(), "trades", page.err());
    history_page out;
    for (auto& t : page->trades)
      if (t.symbol == s.symbol && t.ts_ns >= g.after_ts_ns && t.ts_ns <= g.before_ts_ns)
        out.trades.push_back(std::move(t));
    mi::sort_oldest_first(out.trades);
    if (page->next_page_token)
      out.next = with_auth(rest_request{mi::alpaca::trades_target(s.rest, g.after_ts_ns, g.before_ts_ns,
                                                                  mi::alpaca::max_page_limit, *page->next_page_token),
                                        {}});
    return out;
  }

  std::optional<rest_request> recent_request(const subscription&) const override { return std::nullopt; }

  mi::result<std::vector<mi::trade>> parse_recent(const subscription&, std::string_view) override {
    return mi::error{"alpaca: no recent-trades polling (gaps are backfilled by time range)"};
  }

  std::unique_ptr<mi::book::book_codec> make_book_codec(std::size_t) const override {
    return std::make_unique<mi::alpaca::bbo_book>();
  }

  // Alpaca's market data API: 200 requests per minute per account on the free plan (config
  // exchanges.alpaca.rest_requests_per_minute for other plans); over it, HTTP 429.
  rest_limits limits() const override {
    rest_limits l;
    l.min_interval_ns = 60'000'000'000 / default_requests_per_minute;
    l.default_retry_after_ns = 60'000'000'000;
    return l;
  }

private:
  rest_request with_auth(rest_request r) const {
    r.headers = {{"APCA-API-KEY-ID", opts_.key_id}, {"APCA-API-SECRET-KEY", opts_.secret_key}};
    return r;
  }

  void append_requests(const std::vector<subscription>& subs, bool unsubscribe, std::vector<std::string>& out) const {
    for (std::size_t i = 0; i < subs.size(); i += tickers_per_request) {
      std::vector<std::string> tickers;
      for (std::size_t j = i; j < subs.size() && j < i + tickers_per_request; ++j)
        tickers.push_back(subs[j].wire);
      out.push_back(mi::alpaca::subscribe_request(tickers, subscribed_channels(opts_), unsubscribe));
    }
  }

  venue_options opts_;
  instruments_ptr table_;
  const listed_symbols* listed_ = nullptr;
  mi::alpaca::codec codec_;
  bool need_auth_ = true;
  bool refused_ = false;
};

} // namespace

std::unique_ptr<venue> make_alpaca(const venue_options& o) { return std::make_unique<alpaca_venue>(o); }

} // namespace mi::venue::detail
