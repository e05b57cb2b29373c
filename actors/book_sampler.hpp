#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "caf/actor.hpp"
#include "caf/fwd.hpp"
#include "gateways/postgres/book_store.hpp"
#include "messages/book/book_message.hpp"

namespace mi::gw {
class jetstream;
class metrics;
} // namespace mi::gw

namespace mi::actors {

/// The research samples of the published books (config storage.books): a replica of every (exchange, symbol) book
/// built from MARKET_BOOK's snapshots and deltas, sampled at the boundaries of two periods: its best bid and ask
/// every `bbo_interval`, its top `depth` levels every `snapshot_interval`. A sample is the state when the boundary
/// is noticed, stamped with the boundary's time (several boundaries passed at once give one sample, at the last);
/// a book that is not usable then (out of sync, invalid, never seen) gives none. Pure: no I/O, no clock.
class book_samples {
public:
  book_samples(std::size_t depth, std::int64_t bbo_interval_ms, std::int64_t snapshot_interval_ms);

  /// One MARKET_BOOK message, in stream order per book.
  void on_update(const mi::book::book_update& u);

  /// The samples due at `now_ms` since the last call (the first call only sets the boundaries: nothing is due).
  void sample(std::int64_t now_ms, std::vector<mi::gw::bbo_sample>& bbos, std::vector<mi::gw::book_sample>& books);

  /// Books held.
  std::size_t books() const { return replicas_.size(); }

private:
  std::size_t depth_;
  std::int64_t bbo_interval_ms_, snapshot_interval_ms_;
  std::int64_t last_bbo_ = -1, last_snapshot_ = -1; ///< boundaries (ms) sampled last
  std::map<std::pair<std::string, std::string>, mi::book::book_replica> replicas_;
};

/// Settings of the book sampler.
struct book_sampler_args {
  mi::gw::jetstream* js = nullptr;
  mi::gw::metrics* metrics = nullptr;
  std::string dsn; ///< PostgreSQL conninfo
  std::string book_stream = "MARKET_BOOK";
  std::size_t depth = 20;
  std::chrono::milliseconds bbo_interval{1000};
  std::chrono::milliseconds snapshot_interval{60'000};
};

/// The store role's book sampler (storage.books.enabled): an ordered consumer of MARKET_BOOK (new messages: a book
/// is sampled from its next snapshot on) feeds book_samples on the consumer's thread (a mutex, never a mailbox: a
/// slow database cannot grow a queue); a detached actor takes the samples due every quarter of the bbo interval
/// and writes them (gateways/postgres/book_store). A failed write is logged, counted
/// (mi_store_errors_total{table="books"}) and its samples dropped: they are research samples, the next ones follow.
/// Accepts: (stop_atom) -> quits.
caf::actor spawn_book_sampler(caf::actor_system& sys, book_sampler_args args);

} // namespace mi::actors
