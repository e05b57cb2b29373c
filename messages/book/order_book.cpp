#include "messages/book/order_book.hpp"

#include <algorithm>

namespace mi::book {

bool order_book::set(side s, std::string_view price_text, std::string_view qty_text) {
  const std::optional<mi::decimal> price = mi::decimal::parse(price_text);
  const std::optional<mi::decimal> qty = mi::decimal::parse(qty_text);
  if (!price || !qty || price->signum() <= 0 || qty->signum() < 0)
    return false;
  auto& v = sides_[index(s)];
  if (qty->is_zero()) {
    v.erase(*price);
    return true;
  }
  auto [it, inserted] = v.try_emplace(*price);
  level& l = it->second;
  if (inserted)
    l.price = *price;
  l.qty = *qty;
  l.price_text.assign(price_text);
  l.qty_text.assign(qty_text);
  return true;
}

bool order_book::apply(std::span<const level_change> changes) {
  for (const level_change& c : changes)
    if (!set(c.s, c.price, c.qty))
      return false;
  return true;
}

bool order_book::assign(std::span<const level_change> levels) {
  clear();
  for (const level_change& c : levels)
    if (!set(c.s, c.price, c.qty)) {
      clear();
      return false;
    }
  return true;
}

void order_book::clear() {
  sides_[0].clear();
  sides_[1].clear();
}

void order_book::truncate(side s, std::size_t depth) {
  auto& v = sides_[index(s)];
  while (v.size() > depth)
    v.erase(std::prev(v.end()));
}

const level* order_book::find(side s, const mi::decimal& price) const {
  const auto& v = sides_[index(s)];
  auto it = v.find(price);
  return it != v.end() ? &it->second : nullptr;
}

bool order_book::crossed() const {
  return size(side::bid) > 0 && size(side::ask) > 0 && sides_[0].begin()->first >= sides_[1].begin()->first;
}

} // namespace mi::book
