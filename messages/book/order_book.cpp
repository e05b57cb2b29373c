#include "messages/book/order_book.hpp"

#include <algorithm>

namespace mi::book {

namespace {

/// Position of `price` in a side sorted worst..best: bids ascending, asks descending.
std::vector<level>::iterator position(std::vector<level>& v, side s, const mi::decimal& price) {
  if (s == side::bid)
    return std::lower_bound(v.begin(), v.end(), price,
                            [](const level& l, const mi::decimal& p) { return l.price < p; });
  return std::lower_bound(v.begin(), v.end(), price, [](const level& l, const mi::decimal& p) { return l.price > p; });
}

} // namespace

bool order_book::set(side s, std::string_view price_text, std::string_view qty_text) {
  const std::optional<mi::decimal> price = mi::decimal::parse(price_text);
  const std::optional<mi::decimal> qty = mi::decimal::parse(qty_text);
  if (!price || !qty || price->signum() <= 0 || qty->signum() < 0)
    return false;
  auto& v = sides_[index(s)];
  auto it = position(v, s, *price);
  const bool found = it != v.end() && it->price == *price;
  if (qty->is_zero()) {
    if (found)
      v.erase(it);
    return true;
  }
  if (found) {
    it->qty = *qty;
    it->price_text.assign(price_text);
    it->qty_text.assign(qty_text);
    return true;
  }
  v.insert(it, level{*price, *qty, std::string(price_text), std::string(qty_text)});
  return true;
}

void order_book::clear() {
  sides_[0].clear();
  sides_[1].clear();
}

void order_book::truncate(side s, std::size_t depth) {
  auto& v = sides_[index(s)];
  if (v.size() > depth)
    v.erase(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() - depth));
}

const level* order_book::find(side s, const mi::decimal& price) const {
  auto& v = const_cast<std::vector<level>&>(sides_[index(s)]);
  auto it = position(v, s, price);
  return it != v.end() && it->price == price ? &*it : nullptr;
}

bool order_book::crossed() const {
  return size(side::bid) > 0 && size(side::ask) > 0 && at(side::bid, 0).price >= at(side::ask, 0).price;
}

} // namespace mi::book
