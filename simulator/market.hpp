#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/binance/instruments.hpp"
#include "simulator/book_sim.hpp"
#include "messages/trade.hpp"

namespace mi::sim {

/// One listed instrument of the simulated exchange, in the platform's terms (BTCUSDT, BTC, USDT).
using instrument = binance::instrument;

/// What the simulated exchange lists and what it traded: the instruments (configured symbols minus the
/// rejected ones) and, per symbol, the last `history_limit` generated trades, which the REST history
/// endpoints serve. Plain data, no I/O, no clock; used on the simulator's strand only.
class market {
public:
  /// `symbols` are normalized BASEQUOTE names split by binance::instruments::resolve (plus the fiat quotes USD,
  /// EUR, GBP, CAD, CHF, JPY, AUD); throws
  /// std::runtime_error naming the first one that does not split. `rejected` (any case) are not listed.
  market(std::string exchange, const std::vector<std::string>& symbols, const std::vector<std::string>& rejected,
         std::size_t history_limit);

  /// Lower case exchange name ("okx").
  const std::string& exchange() const { return exchange_; }
  /// Every configured symbol, rejected ones included, in the configured order.
  const std::vector<instrument>& configured() const { return configured_; }
  /// The listed instruments (configured minus rejected), in the configured order.
  const std::vector<instrument>& listed() const { return listed_; }
  /// A listed instrument by normalized symbol (upper case), or nullptr.
  const instrument* find(std::string_view symbol) const;
  /// True when `symbol` (upper case) was given with --reject.
  bool rejected(std::string_view symbol) const { return rejected_.count(std::string(symbol)) > 0; }

  /// Appends a generated trade to its symbol's history (the oldest is forgotten beyond the limit).
  /// Trade ids that are not decimal numbers are kept as id 0.
  void record(const mi::trade& t);

  /// History of `symbol`, ascending: up to `limit` trades with id >= from_id.
  std::vector<mi::trade> from_id(std::string_view symbol, std::uint64_t from_id, std::size_t limit) const;
  /// History of `symbol`, ascending: the `limit` newest trades with id < before_id.
  std::vector<mi::trade> before_id(std::string_view symbol, std::uint64_t before_id, std::size_t limit) const;
  /// History of `symbol`, ascending: the `limit` newest trades.
  std::vector<mi::trade> newest(std::string_view symbol, std::size_t limit) const;
  /// History of `symbol`, ascending: up to `limit` trades with ts_ns >= since_ns.
  std::vector<mi::trade> since_ns(std::string_view symbol, std::int64_t since_ns, std::size_t limit) const;
  /// Trades of `symbol` in the history.
  std::size_t history_size(std::string_view symbol) const;

  /// The true order book of a listed `symbol` (created at its first use, mid 100.00 plus 10.00 per listed position,
  /// seeded from `seed`); nullptr for a symbol not listed.
  sim_book* book(std::string_view symbol);
  /// The book of `symbol` if it was ever used, else nullptr.
  const sim_book* find_book(std::string_view symbol) const;
  /// Seed of the books (the simulator's seed).
  void book_seed(std::uint64_t seed) { book_seed_ = seed; }
  /// Fault: the `nth` REST book snapshot (counted from 1 over all symbols; 0: none) is stale (sim_book::stale_book()).
  void stale_book_snapshot(std::uint64_t nth) { stale_nth_ = nth; }
  /// Counts a REST book snapshot; true when it is the stale one. Protocols call it on the strand.
  bool take_stale_book_snapshot() const;

private:
  /// A trade without what its symbol already says (128 bytes).
  struct entry {
    std::uint64_t id;
    std::string trade_id; ///< empty when it is std::to_string(id)
    mi::decimal price;
    mi::decimal quantity;
    mi::side taker_side;
    std::int64_t ts_ns;
  };
  using history = std::deque<entry>;

  const history* history_of(std::string_view symbol) const;
  mi::trade to_trade(const instrument& meta, const entry& e) const;
  std::vector<mi::trade> range(std::string_view symbol, history::const_iterator first,
                               history::const_iterator last) const;

  std::string exchange_;
  std::vector<instrument> configured_;
  std::vector<instrument> listed_;
  std::set<std::string> rejected_;
  std::size_t limit_;
  std::map<std::string, history, std::less<>> histories_;
  std::map<std::string, sim_book, std::less<>> books_;
  std::uint64_t book_seed_ = 1;
  std::uint64_t stale_nth_ = 0;
  mutable std::uint64_t book_snapshots_ = 0; // counted by the const REST side of the protocols
};

} // namespace mi::sim
