#include "messages/book/book_message.hpp"

#include "market.pb.h"
#include "messages/util/json_writer.hpp"

namespace mi::book {
namespace {

using mi::util::append_json_string;

void put_levels(const std::vector<wire_level>& from, google::protobuf::RepeatedPtrField<market::v1::BookLevel>* to) {
  to->Reserve(static_cast<int>(from.size()));
  for (const auto& l : from) {
    auto* m = to->Add();
    m->set_price(l.price);
    m->set_qty(l.qty);
  }
}

bool is_decimal(const std::string& s) { return mi::decimal::parse(s).has_value(); }

bool get_levels(const google::protobuf::RepeatedPtrField<market::v1::BookLevel>& from, std::vector<wire_level>& to) {
  to.reserve(static_cast<std::size_t>(from.size()));
  for (const auto& m : from) {
    if (!is_decimal(m.price()) || !is_decimal(m.qty()))
      return false;
    to.push_back({m.price(), m.qty()});
  }
  return true;
}

void append_pair(std::string& out, const wire_level& l) {
  out += '[';
  append_json_string(out, l.price);
  out += ',';
  append_json_string(out, l.qty);
  out += ']';
}

void append_side(std::string& out, const char* key, const std::vector<wire_level>& levels) {
  out += ",\"";
  out += key;
  out += "\":[";
  for (std::size_t i = 0; i < levels.size(); ++i) {
    if (i > 0)
      out += ',';
    append_pair(out, levels[i]);
  }
  out += ']';
}

void append_head(std::string& out, const std::string& exchange, const std::string& symbol, std::uint64_t session,
                 std::uint64_t sequence) {
  out += "{\"exchange\":";
  append_json_string(out, exchange);
  out += ",\"symbol\":";
  append_json_string(out, symbol);
  out += ",\"session\":" + std::to_string(session) + ",\"seq\":" + std::to_string(sequence);
}

} // namespace

std::string book_subject(std::string_view exchange, std::string_view symbol) {
  return "market.book." + std::string(exchange) + "." + std::string(symbol);
}

std::string bbo_subject(std::string_view exchange, std::string_view symbol) {
  return "market.bbo." + std::string(exchange) + "." + std::string(symbol);
}

std::string_view to_string(update_kind k) { return k == update_kind::snapshot ? "snapshot" : "delta"; }

std::string encode_book_pb(const book_update& b) {
  market::v1::Book m;
  m.set_exchange(b.exchange);
  m.set_symbol(b.symbol);
  m.set_session(b.session);
  m.set_sequence(b.sequence);
  m.set_kind(b.kind == update_kind::snapshot ? market::v1::BOOK_KIND_SNAPSHOT : market::v1::BOOK_KIND_DELTA);
  m.set_valid(b.valid);
  m.set_ts_ns(b.ts_ns);
  m.set_recv_ns(b.recv_ns);
  put_levels(b.bids, m.mutable_bids());
  put_levels(b.asks, m.mutable_asks());
  return m.SerializeAsString();
}

mi::result<book_update> decode_book_pb(std::string_view bytes) {
  market::v1::Book m;
  if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return mi::error{"not a market.v1.Book"};
  book_update b;
  b.exchange = m.exchange();
  b.symbol = m.symbol();
  b.session = m.session();
  b.sequence = m.sequence();
  if (m.kind() == market::v1::BOOK_KIND_SNAPSHOT)
    b.kind = update_kind::snapshot;
  else if (m.kind() == market::v1::BOOK_KIND_DELTA)
    b.kind = update_kind::delta;
  else
    return mi::error{"market.v1.Book with an unknown kind"};
  b.valid = m.valid();
  b.ts_ns = m.ts_ns();
  b.recv_ns = m.recv_ns();
  if (!get_levels(m.bids(), b.bids) || !get_levels(m.asks(), b.asks))
    return mi::error{"market.v1.Book with a malformed price or quantity"};
  return b;
}

std::string encode_bbo_pb(const bbo& b) {
  market::v1::Bbo m;
  m.set_exchange(b.exchange);
  m.set_symbol(b.symbol);
  m.set_session(b.session);
  m.set_sequence(b.sequence);
  m.set_valid(b.valid);
  m.set_bid_price(b.bid.price);
  m.set_bid_qty(b.bid.qty);
  m.set_ask_price(b.ask.price);
  m.set_ask_qty(b.ask.qty);
  m.set_ts_ns(b.ts_ns);
  m.set_recv_ns(b.recv_ns);
  return m.SerializeAsString();
}

mi::result<bbo> decode_bbo_pb(std::string_view bytes) {
  market::v1::Bbo m;
  if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return mi::error{"not a market.v1.Bbo"};
  bbo b;
  b.exchange = m.exchange();
  b.symbol = m.symbol();
  b.session = m.session();
  b.sequence = m.sequence();
  b.valid = m.valid();
  b.bid = {m.bid_price(), m.bid_qty()};
  b.ask = {m.ask_price(), m.ask_qty()};
  b.ts_ns = m.ts_ns();
  b.recv_ns = m.recv_ns();
  return b;
}

std::string book_to_json(const book_update& b) {
  std::string out;
  out.reserve(128 + 40 * (b.bids.size() + b.asks.size()));
  append_head(out, b.exchange, b.symbol, b.session, b.sequence);
  out += ",\"type\":\"";
  out += to_string(b.kind);
  out += "\",\"valid\":";
  out += b.valid ? "true" : "false";
  out += ",\"ts_ns\":" + std::to_string(b.ts_ns) + ",\"recv_ns\":" + std::to_string(b.recv_ns);
  append_side(out, "bids", b.bids);
  append_side(out, "asks", b.asks);
  out += '}';
  return out;
}

std::string bbo_to_json(const bbo& b) {
  std::string out;
  append_head(out, b.exchange, b.symbol, b.session, b.sequence);
  out += ",\"valid\":";
  out += b.valid ? "true" : "false";
  for (const auto* side : {&b.bid, &b.ask}) {
    out += side == &b.bid ? ",\"bid\":" : ",\"ask\":";
    if (side->price.empty())
      out += "null";
    else
      append_pair(out, *side);
  }
  out += ",\"ts_ns\":" + std::to_string(b.ts_ns) + ",\"recv_ns\":" + std::to_string(b.recv_ns) + "}";
  return out;
}

book_replica::outcome book_replica::apply(const book_update& u) {
  if (u.kind == update_kind::snapshot) {
    session_ = u.session;
    sequence_ = u.sequence;
    ts_ns_ = u.ts_ns;
    recv_ns_ = u.recv_ns;
    book_.clear();
    book_.set_valid(u.valid);
    in_sync_ = true;
    for (const auto& l : u.bids)
      if (!book_.set(side::bid, l.price, l.qty))
        in_sync_ = false;
    for (const auto& l : u.asks)
      if (!book_.set(side::ask, l.price, l.qty))
        in_sync_ = false;
    return in_sync_ ? outcome::snapshot : outcome::bad;
  }
  if (in_sync_ && u.session == session_ && u.sequence <= sequence_)
    return outcome::stale;
  if (!in_sync_ || u.session != session_ || u.sequence != sequence_ + 1) {
    in_sync_ = false;
    return outcome::gap;
  }
  sequence_ = u.sequence;
  ts_ns_ = u.ts_ns;
  recv_ns_ = u.recv_ns;
  for (const auto& l : u.bids)
    if (!book_.set(side::bid, l.price, l.qty))
      in_sync_ = false;
  for (const auto& l : u.asks)
    if (!book_.set(side::ask, l.price, l.qty))
      in_sync_ = false;
  return in_sync_ ? outcome::applied : outcome::bad;
}

book_update book_replica::snapshot(std::string exchange, std::string symbol) const {
  book_update b;
  b.exchange = std::move(exchange);
  b.symbol = std::move(symbol);
  b.session = session_;
  b.sequence = sequence_;
  b.kind = update_kind::snapshot;
  b.valid = usable();
  b.ts_ns = ts_ns_;
  b.recv_ns = recv_ns_;
  if (b.valid) {
    b.bids = top_levels(book_, side::bid, book_.size(side::bid));
    b.asks = top_levels(book_, side::ask, book_.size(side::ask));
  }
  return b;
}

std::vector<wire_level> top_levels(const order_book& book, side s, std::size_t depth) {
  std::vector<wire_level> out;
  out.reserve(std::min(depth, book.size(s)));
  for (const auto& [price, l] : book.levels(s)) {
    if (out.size() >= depth)
      break;
    out.push_back({price.to_string(), l.qty.to_string()});
  }
  return out;
}

} // namespace mi::book
