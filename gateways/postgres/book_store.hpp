#pragma once

// Order-book samples in PostgreSQL (migration 0008, config storage.books): the best bid and ask once per
// bbo_interval and the top N levels once per snapshot_interval of every published book, for research queries.
// Written by the store role's book sampler (actors/book_sampler.*), read by GET /api/v1/book and /api/v1/bbo
// (history_db). Blocking (libpqxx): call it from a detached actor, a worker thread or a tool.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "messages/book/book_message.hpp"
#include "messages/result.hpp"

namespace mi::gw {

/// One row of market_bbo: a book's best levels at `ts_ms` (an absent side was empty).
struct bbo_sample {
  std::string exchange;
  std::string symbol;
  std::int64_t ts_ms = 0;
  std::optional<mi::book::wire_level> bid;
  std::optional<mi::book::wire_level> ask;
  std::uint64_t sequence = 0; ///< the book's sequence (market.v1.Book) the sample was taken at
  bool operator==(const bbo_sample&) const = default;
};

/// One row of market_book_snapshots: the top `depth` levels of each side at `ts_ms`, best first.
struct book_sample {
  std::string exchange;
  std::string symbol;
  std::int64_t ts_ms = 0;
  int depth = 0;
  std::vector<mi::book::wire_level> bids;
  std::vector<mi::book::wire_level> asks;
  std::uint64_t sequence = 0;
  bool operator==(const book_sample&) const = default;
};

/// `[["price","qty"],...]`: a side as the jsonb column and the API hold it.
std::string levels_json(const std::vector<mi::book::wire_level>& levels);

/// Writes samples on one connection (reconnects after an error); not thread-safe. A sample already stored (same
/// exchange, symbol and time: a second store node, a retry) is kept once.
class book_sample_writer {
public:
  explicit book_sample_writer(std::string conninfo);
  ~book_sample_writer();
  book_sample_writer(const book_sample_writer&) = delete;
  book_sample_writer& operator=(const book_sample_writer&) = delete;

  /// Stores both lists in one transaction; the rows inserted (duplicates not counted), or the error.
  mi::result<std::size_t> write(const std::vector<bbo_sample>& bbos, const std::vector<book_sample>& books);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace mi::gw
