#include "simulator/generator.hpp"
#include "messages/util/clock.hpp"

#include <chrono>

namespace mi::sim {
namespace {

std::int64_t start_ticks(const std::string& base, std::uint64_t r) {
  std::int64_t units = 100; // whole quote units
  if (base == "BTC")
    units = 30000;
  else if (base == "ETH")
    units = 2000;
  else if (base == "BNB")
    units = 300;
  else if (base == "SOL")
    units = 100;
  else
    units = 10 + static_cast<std::int64_t>(r % 200);
  return units * 100;
}

} // namespace

symbol_generator::symbol_generator(binance::instrument meta, std::uint64_t seed, std::string exchange,
                                   std::uint64_t first_id)
    : meta_(std::move(meta)), exchange_(std::move(exchange)), state_(seed), first_id_(first_id < 1 ? 1 : first_id),
      last_id_(first_id_ - 1) {
  // mix the symbol into the seed so that two symbols with the same seed walk differently
  for (char c : meta_.symbol)
    state_ = state_ * 1099511628211ULL + static_cast<unsigned char>(c);
  price_ticks_ = start_ticks(meta_.base, random());
}

std::uint64_t symbol_generator::random() {
  std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL); // splitmix64
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

mi::trade symbol_generator::next(std::int64_t ts_ns) {
  const std::uint64_t r = random();
  // walk: -5..+5 ticks, never below one tick
  price_ticks_ += static_cast<std::int64_t>(r % 11) - 5;
  if (price_ticks_ < 1)
    price_ticks_ = 1;
  const auto qty_units = static_cast<std::int64_t>((r >> 8) % 200000) + 1; // 0.00001 .. 2.00000

  mi::trade t;
  t.exchange = exchange_;
  t.symbol = meta_.symbol;
  t.base = meta_.base;
  t.quote = meta_.quote;
  t.trade_id = std::to_string(++last_id_);
  t.price = *mi::decimal::from_parts(price_ticks_, 2);
  t.quantity = *mi::decimal::from_parts(qty_units, 5);
  t.taker_side = ((r >> 40) & 1) ? mi::side::buy : mi::side::sell;
  t.ts_ns = ts_ns;
  return t;
}

std::int64_t wall_ms_as_ns() { return mi::util::now_ms() * 1'000'000; }

} // namespace mi::sim
