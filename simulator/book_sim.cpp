#include "simulator/book_sim.hpp"

#include <map>
#include <utility>

#include "messages/decimal.hpp"

namespace mi::sim {

using mi::book::side;

sim_book::sim_book(std::uint64_t seed, std::int64_t mid_cents)
    : rng_(seed * 0x9e3779b97f4a7c15ULL + 1), mid_(mid_cents) {
  for (std::int64_t i = 1; i <= 10; ++i) {
    book_.set(side::bid, price_text(mid_ - i), qty_text());
    book_.set(side::ask, price_text(mid_ + i), qty_text());
  }
  book_.set_valid(true);
  stale_ = book_;
  newer_ = book_;
}

std::uint64_t sim_book::random() {
  std::uint64_t z = (rng_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::string sim_book::price_text(std::int64_t cents) const { return mi::decimal::from_parts(cents, 2)->to_string(); }

std::string sim_book::qty_text() {
  // 0.001 .. 50: three decimals, never zero
  const auto milli = static_cast<std::int64_t>(random() % 50'000) + 1;
  return mi::decimal::from_parts(milli, 3)->to_string();
}

sim_book_update sim_book::step() {
  sim_book_update u;
  u.id = ++id_;
  const int n = 1 + static_cast<int>(random() % 3);
  for (int k = 0; k < n; ++k) {
    const side s = random() % 2 == 0 ? side::bid : side::ask;
    const std::size_t size = book_.size(s);
    const auto op = random() % 3;
    std::string price;
    std::string qty;
    if ((op == 0 || size <= 3) && size < max_levels) { // a new level within 30 ticks of the mid
      const auto off = static_cast<std::int64_t>(random() % 30) + 1;
      price = price_text(s == side::bid ? mid_ - off : mid_ + off);
      qty = qty_text();
    } else {
      const auto& l = book_.at(s, random() % size);
      price = l.price.to_string();
      qty = op == 1 ? qty_text() : "0";
    }
    book_.set(s, price, qty);
    u.changes.push_back({s, std::move(price), std::move(qty)});
  }
  if (id_ % stale_every == 0) {
    stale_ = std::move(newer_);
    stale_id_ = newer_id_;
    newer_ = book_;
    newer_id_ = id_;
  }
  return u;
}

std::vector<sim_level> depth_view::top(const sim_book& b) const {
  std::vector<sim_level> out;
  for (side s : {side::bid, side::ask}) {
    std::size_t n = 0;
    for (const auto& [price, l] : b.book().levels(s)) {
      if (n++ == depth_)
        break;
      out.push_back({s, l.price_text, l.qty_text});
    }
  }
  return out;
}

std::vector<sim_level> depth_view::snapshot(const sim_book& b) {
  auto now = top(b);
  if (depth_ < sim_book::max_levels)
    sent_ = now;
  return now;
}

std::vector<sim_level> depth_view::update(const sim_book& b, const sim_book_update& u) {
  if (depth_ >= sim_book::max_levels)
    return u.changes;
  auto now = top(b);
  // Levels new or with another quantity, then the levels that left the view (quantity "0").
  std::map<std::pair<side, std::string>, const std::string*> before;
  for (const auto& l : sent_)
    before.emplace(std::pair{l.side, l.price}, &l.qty);
  std::vector<sim_level> out;
  for (const auto& l : now) {
    auto it = before.find({l.side, l.price});
    if (it == before.end() || *it->second != l.qty)
      out.push_back(l);
    if (it != before.end())
      before.erase(it);
  }
  for (const auto& l : sent_)
    if (before.count({l.side, l.price}) != 0)
      out.push_back({l.side, l.price, "0"});
  sent_ = std::move(now);
  return out;
}

std::string sim_book_json(const sim_book& b) {
  std::string out = "{\"update_id\":" + std::to_string(b.update_id());
  for (side s : {side::bid, side::ask}) {
    out += s == side::bid ? ",\"bids\":[" : ",\"asks\":[";
    bool first = true;
    for (const auto& [price, l] : b.book().levels(s)) {
      if (!first)
        out += ',';
      first = false;
      out += "[\"" + price.to_string() + "\",\"" + l.qty.to_string() + "\"]";
    }
    out += ']';
  }
  out += '}';
  return out;
}

} // namespace mi::sim
