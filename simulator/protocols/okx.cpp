// OKX v5 public, server side: /ws/v5/public with {"op":"subscribe","args":[{"channel":"trades","instId":..}]},
// one ack (or error 60018) per arg, text ping/pong, the 64008 notice; REST public/instruments and
// market/history-trades (newest first, `after` pages backwards).
#include <algorithm>
#include <cstdio>

#include <boost/json.hpp>

#include "connectors/json_text.hpp"
#include "connectors/okx/book.hpp"
#include "connectors/okx/codec.hpp"
#include "connectors/okx/instruments.hpp"
#include "simulator/generator.hpp"
#include "simulator/protocols/protocol.hpp"

namespace mi::sim {
namespace {

using connectors::text::append_json_string;

struct okx_connection : connection_state {
  std::string conn_id;
};

std::string_view str(const boost::json::string& s) { return {s.data(), s.size()}; }

class okx_protocol final : public protocol {
public:
  explicit okx_protocol(const market& m) : m_(m) {}

  std::unique_ptr<connection_state> open(std::string_view path, const query_params&, actions&,
                                         http_reply& refusal) override {
    if (path != "/ws/v5/public" && path != "/ws/v5/business" && path != "/ws") {
      refusal = {404, R"({"code":"404","msg":"no WebSocket endpoint at this path"})", {}};
      return nullptr;
    }
    auto c = std::make_unique<okx_connection>();
    char buf[16];
    std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(0xa4d3ae55u + 0x9e37u * connections_++));
    c->conn_id = buf;
    return c;
  }

  void on_text(connection_state& cs, std::string_view text, actions& out) override {
    auto& c = static_cast<okx_connection&>(cs);
    if (text == okx::ping_frame)
      return out.frames.push_back(std::string(okx::pong_frame));
    boost::system::error_code ec;
    auto v = boost::json::parse(boost::json::string_view(text.data(), text.size()), ec);
    if (ec || !v.is_object())
      return out.frames.push_back(error(c, "60012", "Invalid request: " + std::string(text)));
    const auto& o = v.get_object();
    const auto* op = o.if_contains("op");
    if (!op || !op->is_string())
      return out.frames.push_back(error(c, "60012", "Invalid request: " + std::string(text)));
    const bool sub = str(op->get_string()) == "subscribe";
    if (!sub && str(op->get_string()) != "unsubscribe")
      return out.frames.push_back(error(c, "60012", "Invalid request: " + std::string(text)));
    const auto* args = o.if_contains("args");
    if (!args || !args->is_array() || args->get_array().empty())
      return out.frames.push_back(error(c, "60012", "Invalid request: " + std::string(text)));
    if (sub)
      ++out.subscribe_requests;
    for (const auto& a : args->get_array()) {
      const auto* ao = a.if_object();
      const auto* ch = ao ? ao->if_contains("channel") : nullptr;
      const auto* inst = ao ? ao->if_contains("instId") : nullptr;
      if (!ch || !ch->is_string() || !inst || !inst->is_string()) {
        out.frames.push_back(error(c, "60012", "Invalid request: " + std::string(text)));
        continue;
      }
      const std::string channel(str(ch->get_string()));
      const std::string inst_id(str(inst->get_string()));
      auto parsed = okx::from_inst_id(inst_id);
      const instrument* meta = parsed ? m_.find(parsed->symbol) : nullptr;
      const bool books = channel == "books";
      if ((channel != "trades" && channel != "trades-all" && !books) || !meta ||
          okx::inst_id_of(meta->symbol, meta->base, meta->quote) != inst_id) {
        out.frames.push_back(
          error(c, "60018",
                "Wrong URL or channel:" + channel + ",instId:" + inst_id +
                  " doesn't exist. Please use the correct URL, channel and parameters referring to API document."));
        continue;
      }
      std::string ack =
        sub ? R"({"event":"subscribe","arg":{"channel":)" : R"({"event":"unsubscribe","arg":{"channel":)";
      append_json_string(ack, channel);
      ack += ",\"instId\":";
      append_json_string(ack, inst_id);
      ack += "},\"connId\":\"" + c.conn_id + "\"}";
      out.frames.push_back(std::move(ack));
      (sub ? out.subscribe : out.unsubscribe).push_back({meta->symbol, books ? book_kind : 0});
    }
  }

  std::string trade_frame(connection_state&, const mi::trade& t, int) override { return okx::encode_trade_frame(t); }

  std::string malformed_trade_frame(connection_state&, std::string_view symbol, int) override {
    const auto* meta = m_.find(symbol);
    const std::string inst = meta ? okx::inst_id_of(meta->symbol, meta->base, meta->quote) : std::string(symbol);
    return R"({"arg":{"channel":"trades","instId":")" + inst + R"("},"data":[{"instId":")" + inst +
           R"(","tradeId":"1","px":"not-a-price","sz":"1","side":"buy","ts":"1","count":"1"}]})";
  }

  bool supports_books() const override { return true; }

  // `books`: the snapshot on subscribe, then updates; each with seqId (the book's update id), prevSeqId and the
  // CRC32 checksum of the top 25 levels after it.
  std::optional<std::string> book_snapshot_frame(connection_state&, std::string_view symbol,
                                                 const sim_book& b) override {
    return book_frame(symbol, "snapshot", b, nullptr, -1, false);
  }

  std::string book_update_frame(connection_state&, std::string_view symbol, const sim_book& b, const sim_book_update& u,
                                bool corrupt_checksum) override {
    return book_frame(symbol, "update", b, &u, static_cast<std::int64_t>(u.id) - 1, corrupt_checksum);
  }

  std::chrono::milliseconds idle_close_after() const override { return std::chrono::seconds(30); }

  bool supports_notice() const override { return true; }

  std::optional<std::string> notice(connection_state& cs) override {
    return R"({"event":"notice","code":"64008","msg":"The connection will soon be closed for a service upgrade. Please reconnect.","connId":")" +
           static_cast<okx_connection&>(cs).conn_id + "\"}";
  }

  std::optional<http_reply> rest(std::string_view path, const query_params& q) override {
    if (path == "/api/v5/public/instruments") {
      auto type = q.find("instType");
      if (type == q.end() || type->second != "SPOT")
        return http_reply{200, R"({"code":"51000","msg":"Parameter instType error","data":[]})", {}};
      std::string body = R"({"code":"0","msg":"","data":[)";
      bool first = true;
      for (const auto& i : m_.listed()) {
        if (!first)
          body += ',';
        first = false;
        body += R"({"instType":"SPOT","instId":")" + okx::inst_id_of(i.symbol, i.base, i.quote) + R"(","baseCcy":")" +
                i.base + R"(","quoteCcy":")" + i.quote + R"(","state":"live"})";
      }
      body += "]}";
      return http_reply{200, std::move(body), {}};
    }
    if (path != "/api/v5/market/history-trades" && path != "/api/v5/market/trades")
      return std::nullopt;
    auto inst = q.find("instId");
    const instrument* meta = nullptr;
    if (inst != q.end())
      if (auto parsed = okx::from_inst_id(inst->second); parsed)
        meta = m_.find(parsed->symbol);
    if (!meta || okx::inst_id_of(meta->symbol, meta->base, meta->quote) != inst->second)
      return http_reply{200, R"({"code":"51001","msg":"Instrument ID does not exist","data":[]})", {}};
    std::size_t limit = 100;
    if (auto l = q.find("limit"); l != q.end()) {
      auto n = parse_uint(l->second);
      if (!n)
        return http_reply{200, R"({"code":"51000","msg":"Parameter limit error","data":[]})", {}};
      limit = static_cast<std::size_t>(std::clamp<std::uint64_t>(*n, 1, 100));
    }
    std::vector<mi::trade> trades;
    if (auto a = q.find("after"); a != q.end()) {
      auto id = parse_uint(a->second);
      if (!id)
        return http_reply{200, R"({"code":"51000","msg":"Parameter after error","data":[]})", {}};
      trades = m_.before_id(meta->symbol, *id, limit);
    } else {
      trades = m_.newest(meta->symbol, limit);
    }
    std::string body = R"({"code":"0","msg":"","data":[)";
    for (auto it = trades.rbegin(); it != trades.rend(); ++it) { // newest first
      if (it != trades.rbegin())
        body += ',';
      body += R"({"instId":")" + inst->second + R"(","side":")" + (it->taker_side == mi::side::sell ? "sell" : "buy") +
              R"(","sz":")" + it->quantity.to_string() + R"(","px":")" + it->price.to_string() +
              R"(","source":"0","tradeId":")" + it->trade_id + R"(","ts":")" + std::to_string(it->ts_ns / 1'000'000) +
              "\"}";
    }
    body += "]}";
    return http_reply{200, std::move(body), {}};
  }

private:
  std::string book_frame(std::string_view symbol, const char* action, const sim_book& b, const sim_book_update* u,
                         std::int64_t prev_seq, bool corrupt_checksum) {
    const auto* meta = m_.find(symbol);
    const std::string inst = meta ? okx::inst_id_of(meta->symbol, meta->base, meta->quote) : std::string(symbol);
    std::string out = R"({"arg":{"channel":"books","instId":")" + inst + R"("},"action":")" + action + R"(","data":[{)";
    for (auto s : {mi::book::side::ask, mi::book::side::bid}) {
      out += s == mi::book::side::ask ? R"("asks":[)" : R"(,"bids":[)";
      bool first = true;
      auto level = [&](const std::string& price, const std::string& qty) {
        if (!first)
          out += ',';
        first = false;
        out += "[\"" + price + "\",\"" + qty + "\",\"0\",\"1\"]";
      };
      if (u == nullptr) {
        for (const auto& [price, l] : b.book().levels(s))
          level(l.price_text, l.qty_text);
      } else {
        for (const auto& c : u->changes)
          if (c.side == s)
            level(c.price, c.qty);
      }
      out += ']';
    }
    std::int32_t checksum = okx::book_checksum(b.book(), scratch_);
    if (corrupt_checksum) {
      checksum = checksum ^ 0x5a5a5a5a; // never the right one; 0 would mean "no checksum" to OKX clients
      if (checksum == 0)
        checksum = 1;
    }
    out += R"(,"ts":")" + std::to_string(wall_ms_as_ns() / 1'000'000) + R"(","checksum":)" + std::to_string(checksum) +
           R"(,"prevSeqId":)" + std::to_string(prev_seq) + R"(,"seqId":)" + std::to_string(b.update_id()) + "}]}";
    return out;
  }

  static std::string error(const okx_connection& c, std::string_view code, std::string_view msg) {
    std::string out = R"({"event":"error","code":")" + std::string(code) + R"(","msg":)";
    append_json_string(out, msg);
    out += ",\"connId\":\"" + c.conn_id + "\"}";
    return out;
  }

  const market& m_;
  unsigned connections_ = 0;
  std::string scratch_; ///< the checksum's text, reused
};

} // namespace

std::unique_ptr<protocol> make_okx_protocol(const market& m) { return std::make_unique<okx_protocol>(m); }

} // namespace mi::sim
