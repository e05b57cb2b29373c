#pragma once

// The documents table (deploy/sql/0007_documents.sql) over libpqxx 6.4: the store path's upsert of revisions and the
// REST search (GET /api/v1/documents). Blocking: run it on a detached actor or a worker thread.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "gateways/postgres/partitions.hpp"
#include "messages/document.hpp"
#include "messages/result.hpp"

namespace mi::gw {

/// What one upsert batch did.
struct document_write {
  std::size_t inserted = 0;  ///< documents not stored before
  std::size_t revised = 0;   ///< stored documents replaced by another revision
  std::size_t unchanged = 0; ///< the same revision again (a repeated item, a redelivery), or an older fetch
  bool operator==(const document_write&) const = default;
};

/// Position in the search order (published_at newest first, then id descending).
struct document_cursor {
  std::int64_t published_at_ns = 0;
  std::string id;
  bool operator==(const document_cursor&) const = default;
};

/// The opaque `next` token: "<published_at_ns>_<hex of id>" (URL-safe, the trade cursor's form).
std::string encode_document_cursor(const document_cursor& c);
/// Inverse; error (errc::bad_input, naming `cursor`) if malformed.
mi::result<document_cursor> decode_document_cursor(std::string_view token);

/// GET /api/v1/documents: every set filter must hold.
struct document_query {
  std::string q{};                         ///< words: English full text, or a substring (Chinese); "" = any
  std::string symbol{};                    ///< the document lists this symbol
  std::string source{};                    ///< a document_sources() name
  std::optional<mi::document_kind> kind{}; ///< filing | news | announcement | social
  std::optional<std::int64_t> start_ms{};  ///< published_at >= start (inclusive)
  std::optional<std::int64_t> end_ms{};    ///< published_at <= end (inclusive)
  std::optional<document_cursor> after{};  ///< continue strictly after this position
  int limit = 50;                          ///< 1..500
};

/// How a search found its page (docs/performance.md "Documents"): the results are the same whichever it was.
enum class search_path {
  plain,      ///< one statement (no text, or search_mode::plain)
  window,     ///< the text matched often enough within the newest rows of the other filters
  candidates, ///< few matches: all of them read from the GIN indexes (at most max_index_candidates), then sorted
  time_walk,  ///< more matches than that, few of them recent: the plain statement
};

/// "plain", "window", "candidates", "time_walk".
std::string_view to_string(search_path p);

/// One page, newest first; `next` is set when more documents match.
struct document_page {
  std::vector<mi::document> documents;
  std::optional<document_cursor> next;
  search_path path = search_path::plain; ///< how it was found (tests, the bench)
};

/// search(): the adaptive strategy, or the one plain statement (the reference the tests and the bench compare with).
enum class search_mode { adaptive, plain };

/// A text search reads at most this many candidates from the GIN indexes before it walks the time index instead.
inline constexpr int max_index_candidates = 1000;

/// One connection to the documents table.
class document_store {
public:
  /// Connects; every statement bounded by `statement_timeout` (0: none). Never throws.
  static mi::result<std::unique_ptr<document_store>> connect(const std::string& conninfo,
                                                             std::chrono::milliseconds statement_timeout = {});
  ~document_store();
  document_store(const document_store&) = delete;
  document_store& operator=(const document_store&) = delete;

  /// One transaction: the month partitions of the batch created when missing, then each document inserted or, when
  /// its id is stored, updated if its revision differs and it was fetched no earlier (revisions + 1); an id keeps
  /// its first-stored published_at. Idempotent: a batch may be retried after any error. Error codes as
  /// pg_writer::write_trades (rejected: the data; unavailable: the server).
  mi::result<document_write> upsert(const std::vector<mi::document>& batch);

  /// Search (newest first). With a text `q`, adaptive (the same results as the plain statement, faster when the
  /// text is rare or absent): the newest rows of the other filters first, then the GIN indexes' candidates, then
  /// the time walk.
  mi::result<document_page> search(const document_query& q, search_mode mode = search_mode::adaptive);

  /// The stored revision count of an id (0: not stored). For tests and tools.
  mi::result<int> revisions(const std::string& id);

private:
  struct impl;
  explicit document_store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

/// "documents_pYYYYMM" and its bounds "YYYY-MM-01 00:00:00+00" .. next month, for the month holding `ns` (the
/// kline partitions' rule, partitions.hpp).
partition_range document_partition_of(std::int64_t ns);

} // namespace mi::gw
