#pragma once

// Shared by the exchange codecs: an exchange's listed symbols with their base and quote assets,
// and the offline fallback of splitting an unknown symbol by its longest known quote suffix.

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mi::connectors {

/// Exchange metadata for one symbol.
struct instrument {
  std::string symbol;  ///< exchange symbol, upper case: BTCUSDT
  std::string base;    ///< BTC
  std::string quote;   ///< USDT
  bool trading = true; ///< listed as trading by the exchange

  friend bool operator==(const instrument&, const instrument&) = default;
};

/// True for a non-empty upper-case alphanumeric asset or symbol name.
bool is_asset(std::string_view s);

/// Listed symbols, with a quote-suffix fallback for symbols not (yet) listed.
class symbol_table {
public:
  /// `builtin_quotes` (not owned: a static array) are the quote assets tried by resolve().
  explicit symbol_table(std::span<const std::string_view> builtin_quotes) : builtin_(builtin_quotes) {}

  /// Adds or replaces one symbol; its quote becomes a known suffix too.
  void add(instrument i);
  /// Exact lookup by exchange symbol (upper case); nullptr if unknown.
  const instrument* find(std::string_view symbol) const;
  /// find(), else split by the longest known quote suffix; nullopt if none fits.
  std::optional<instrument> resolve(std::string_view symbol) const;
  std::size_t size() const { return by_symbol_.size(); }
  /// Every listed instrument, ordered by symbol.
  std::vector<instrument> all() const;

private:
  std::span<const std::string_view> builtin_;
  std::vector<std::string> extra_quotes_; ///< quotes of listed instruments beyond the built-in ones
  std::map<std::string, instrument, std::less<>> by_symbol_;
};

} // namespace mi::connectors
