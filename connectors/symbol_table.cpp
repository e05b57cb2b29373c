#include "connectors/symbol_table.hpp"

#include <algorithm>

namespace mi::connectors {

bool is_asset(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); });
}

void symbol_table::add(instrument i) {
  const bool builtin = std::find(builtin_.begin(), builtin_.end(), i.quote) != builtin_.end();
  if (!builtin && !i.quote.empty() &&
      std::find(extra_quotes_.begin(), extra_quotes_.end(), i.quote) == extra_quotes_.end())
    extra_quotes_.push_back(i.quote);
  std::string key = i.symbol;
  by_symbol_.insert_or_assign(std::move(key), std::move(i));
}

const instrument* symbol_table::find(std::string_view symbol) const {
  auto it = by_symbol_.find(symbol);
  return it == by_symbol_.end() ? nullptr : &it->second;
}

std::optional<instrument> symbol_table::resolve(std::string_view symbol) const {
  if (const instrument* i = find(symbol))
    return *i;
  if (!is_asset(symbol))
    return std::nullopt;
  std::string_view best;
  auto consider = [&](std::string_view quote) {
    if (quote.size() > best.size() && symbol.size() > quote.size() && symbol.ends_with(quote))
      best = quote;
  };
  for (std::string_view q : builtin_)
    consider(q);
  for (const std::string& q : extra_quotes_)
    consider(q);
  if (best.empty())
    return std::nullopt;
  return instrument{std::string(symbol), std::string(symbol.substr(0, symbol.size() - best.size())), std::string(best),
                    true};
}

std::vector<instrument> symbol_table::all() const {
  std::vector<instrument> out;
  out.reserve(by_symbol_.size());
  for (const auto& [symbol, i] : by_symbol_)
    out.push_back(i);
  return out;
}

} // namespace mi::connectors
