// OKX v5 public: the `trades` channel by instId, text ping after 25 s of silence, notice 64008,
// /api/v5/market/history-trades paged backward (newest first) by tradeId.

#include <set>
#include <string>

#include "connectors/book_json.hpp"
#include "connectors/json_text.hpp"
#include "connectors/okx/book.hpp"
#include "connectors/okx/codec.hpp"
#include "connectors/okx/instruments.hpp"
#include "connectors/okx/rest.hpp"
#include "connectors/venue/detail.hpp"

namespace mi::venue::detail {
namespace {

/// OKX's page limit of history-trades.
constexpr int page_limit = 100;

/// The instId an OKX error message names ("channel:trades,instId:XYZ-USDT doesn't exist" -> "XYZ-USDT"), or "".
std::string_view inst_id_in(std::string_view message) {
  constexpr std::string_view key = "instId:";
  const auto at = message.find(key);
  if (at == std::string_view::npos)
    return {};
  const auto begin = at + key.size();
  auto end = begin;
  while (end < message.size() && (mi::connectors::text::is_upper_alnum(message[end]) || message[end] == '-'))
    ++end;
  return message.substr(begin, end - begin);
}

class okx_venue final : public venue {
public:
  std::string_view name() const override { return "okx"; }

  rest_request instruments_request() const override { return {"/api/v5/public/instruments?instType=SPOT"}; }

  mi::result<instruments_ptr> parse_instruments(std::string_view body) const override {
    auto parsed = okx::parse_instruments(body);
    if (!parsed)
      return rest_error(name(), "instruments", parsed.err());
    std::set<std::string> listed;
    for (const okx::instrument& i : *parsed)
      listed.insert(i.inst_id);
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
    auto inst = okx::from_unified(unified);
    if (!inst)
      return inst.err();
    if (loaded_ && listed_->count(inst->inst_id) == 0)
      return not_listed(unified, name());
    return make_subscription(unified, *inst, inst->inst_id, inst->inst_id);
  }

  // OKX has no documented per-connection channel cap, but 480 subscribe requests per hour and 64 KB per
  // request: a few hundred instruments per connection keeps a reconnect cheap.
  std::size_t max_subscriptions_per_connection() const override { return 200; }

  // Books: the `books` channel (400 levels, snapshot on subscribe, then updates with seqId/prevSeqId and a
  // checksum); a resync unsubscribes and subscribes again for a new snapshot.
  bool supports_books() const override { return true; }

  std::vector<std::string> book_subscribe_requests(const std::vector<subscription>& subs, std::size_t) override {
    return okx::subscribe_requests(inst_ids_of(subs), "books");
  }

  std::vector<std::string> book_unsubscribe_requests(const std::vector<subscription>& subs, std::size_t) override {
    return okx::unsubscribe_requests(inst_ids_of(subs), "books");
  }

  // {"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{..,"ts":"ms",..}]}
  std::optional<book_route> book_frame(std::string_view frame) override {
    if (frame.find("\"books") == std::string_view::npos || frame.find("\"data\"") == std::string_view::npos ||
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
      if (key == "arg") {
        od::object arg;
        if (v.get_object().get(arg))
          return std::nullopt;
        for (auto af : arg) {
          std::string_view ak;
          std::string_view text;
          if (af.unescaped_key().get(ak) || af.value().get_string().get(text))
            continue;
          if (ak == "channel")
            book = text.substr(0, 5) == "books";
          else if (ak == "instId")
            r.key = std::string(text);
        }
      } else if (key == "data") {
        od::array data;
        if (v.get_array().get(data))
          return std::nullopt;
        for (auto item : data) {
          od::object obj;
          od::value ts;
          std::int64_t ms = 0;
          if (!item.get_object().get(obj) && !obj.find_field_unordered("ts").get(ts) &&
              mi::connectors::book_json::read_int(ts, ms) && ms > 0 && ms < 100'000'000'000'000)
            r.ts_ns = ms * 1'000'000;
          break;
        }
      }
    }
    if (!book || r.key.empty())
      return std::nullopt;
    return r;
  }

  std::string book_key(const subscription& s) const override { return s.wire; }

  std::vector<std::string> subscribe_requests(const std::vector<subscription>& subs) override {
    std::vector<std::string> inst_ids;
    inst_ids.reserve(subs.size());
    for (const subscription& s : subs)
      inst_ids.push_back(s.wire);
    return okx::subscribe_requests(inst_ids, "trades");
  }

  std::vector<std::string> unsubscribe_requests(const std::vector<subscription>& subs) override {
    std::vector<std::string> inst_ids;
    inst_ids.reserve(subs.size());
    for (const subscription& s : subs)
      inst_ids.push_back(s.wire);
    return okx::unsubscribe_requests(inst_ids, "trades");
  }

  int control_messages_per_second() const override { return 3; }

  mi::result<events> decode(std::string_view frame, std::int64_t recv_ns) override {
    auto r = codec_.decode(frame, recv_ns);
    if (!r)
      return r.err();
    events out;
    using k = okx::frame_events::kind;
    switch (r->what) {
    case k::trades:
      if (!r->trades.empty()) {
        out.what = events::kind::trades;
        // An aggregated push (count > 1) covers the fills tradeId - count + 1 .. tradeId.
        for (std::size_t i = 0; i < r->fills.size(); ++i) {
          const auto& id = r->trades[i].id_number;
          out.first_ids.push_back(id ? *id - r->fills[i] + 1 : 0);
        }
        out.trades = std::move(r->trades);
      }
      break;
    case k::ack:
      out.what = events::kind::ack;
      break;
    case k::error: {
      out.what = events::kind::error;
      out.message = std::move(r->error_message);
      if (auto inst = okx::from_inst_id(inst_id_in(out.message)))
        out.rejected = inst->symbol;
      break;
    }
    case k::pong:
      out.what = events::kind::heartbeat;
      break;
    case k::server_notice:
      // 64008: "The connection will soon be closed for a service upgrade. Please reconnect."
      if (r->error_message.rfind("code 64008", 0) == 0) {
        out.what = events::kind::reconnect_notice;
        out.message = std::move(r->error_message);
      }
      break;
    case k::ignored:
      break;
    }
    return out;
  }

  void on_open(std::int64_t now_ns) override {
    heartbeat_ = okx::heartbeat{};
    heartbeat_.on_received(now_ns); // the idle period starts with the connection
  }
  void on_frame(std::int64_t now_ns) override { heartbeat_.on_received(now_ns); }
  std::optional<std::string> ping_due(std::int64_t now_ns) override {
    if (!heartbeat_.ping_due(now_ns))
      return std::nullopt;
    return std::string(okx::ping_frame);
  }
  bool heartbeat_timed_out(std::int64_t now_ns) const override { return heartbeat_.timed_out(now_ns); }

  bool sequential_ids() const override { return true; }

  std::optional<rest_request> history_request(const subscription& s, const gap& g) const override {
    pages_.start(s.symbol, g, g.last_id + 1);
    return request_after(s, g.last_id + 1);
  }

  mi::result<history_page> parse_history(const subscription& s, const gap& g, std::string_view body) override {
    auto trades = okx::parse_trades(body);
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
    return mi::error{"okx: no recent-trades polling (ids are sequential: use history)"};
  }

  // OKX market/history-trades: 20 requests per 2 s per IP (10/s); half of it leaves room for the other
  // connections of the same IP. 429 beyond.
  std::unique_ptr<mi::book::book_codec> make_book_codec(std::size_t) const override {
    return std::make_unique<okx::book_sync>();
  }

  rest_limits limits() const override {
    rest_limits l;
    l.min_interval_ns = 200'000'000;
    return l;
  }

private:
  static std::vector<std::string> inst_ids_of(const std::vector<subscription>& subs) {
    std::vector<std::string> ids;
    ids.reserve(subs.size());
    for (const subscription& s : subs)
      ids.push_back(s.wire);
    return ids;
  }

  mi::connectors::book_json::reader route_reader_; ///< book_frame()'s parser

  static rest_request request_after(const subscription& s, std::int64_t after) {
    return {"/api/v5/market/history-trades?instId=" + s.rest + "&type=1&after=" + std::to_string(after) +
            "&limit=" + std::to_string(page_limit)};
  }

  const std::set<std::string>* listed_ = nullptr; ///< live SPOT instIds, in table_
  instruments_ptr table_;                         ///< the shared instruments, kept alive
  bool loaded_ = false;
  okx::codec codec_;
  okx::heartbeat heartbeat_;
  mutable page_memory pages_{page_memory::direction::backward}; ///< restarted by the const history_request
};

} // namespace

std::unique_ptr<venue> make_okx(const venue_options&) { return std::make_unique<okx_venue>(); }

} // namespace mi::venue::detail
