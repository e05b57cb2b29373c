#pragma once

#include <string>
#include <string_view>

#include "messages/result.hpp"

namespace mi::okx {

/// One OKX instrument in both spellings: the exchange's instId and the platform's symbol.
struct instrument {
  std::string inst_id; ///< exchange spelling: BTC-USDT (spot), BTC-USDT-SWAP, BTC-USD-220527
  std::string
    symbol; ///< normalized: BTCUSDT; derivatives keep their suffix (BTCUSDTSWAP) so they never collide with spot
  std::string base;  ///< BTC
  std::string quote; ///< USDT

  friend bool operator==(const instrument&, const instrument&) = default;
};

/// "BTC/USDT" (unified config form) -> {BTC-USDT, BTCUSDT, BTC, USDT}; error on a malformed name.
/// Lower case letters are accepted and upper-cased.
mi::result<instrument> from_unified(std::string_view unified);

/// "BTC-USDT" -> {BTC-USDT, BTCUSDT, BTC, USDT}; "BTC-USDT-SWAP" -> symbol BTCUSDTSWAP (base BTC, quote USDT).
/// Error unless the instId is at least two '-'-separated non-empty parts of letters and digits.
mi::result<instrument> from_inst_id(std::string_view inst_id);

/// The instId of a normalized trade's instrument: base-quote, plus "-" and whatever the symbol
/// carries after base+quote (BTCUSDTSWAP with BTC/USDT -> BTC-USDT-SWAP). Inverse of from_inst_id.
std::string inst_id_of(std::string_view symbol, std::string_view base, std::string_view quote);

} // namespace mi::okx
