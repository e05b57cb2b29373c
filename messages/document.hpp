#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "messages/result.hpp"

/// Documents (issue 14): filings, news, announcements and social posts as one normalized type, the table of document
/// sources (each named once: config, API parameter checks, fuzzers and simulator iterate it), and the wire forms
/// (protobuf market.v1.Document, one JSON object a line).
namespace mi {

/// What a document is (market.v1.DocumentKind).
enum class document_kind : std::uint8_t { filing = 1, news = 2, announcement = 3, social = 4 };

/// "filing", "news", "announcement", "social".
std::string_view to_string(document_kind k);
/// The inverse of to_string; nullopt for anything else.
std::optional<document_kind> parse_document_kind(std::string_view s);

/// One line of the document source table.
struct document_source_info {
  std::string_view name;         ///< lower case, a legal NATS token: the {source} of market.doc.{source}.{kind}
  document_kind kind;            ///< what its documents are
  std::string_view default_url;  ///< the real endpoint (config default)
  std::string_view default_lang; ///< ISO 639-1 language of its documents unless the document says otherwise
  std::string_view default_stream_url = {}; ///< its live WebSocket (config default; "" for a source without one)
};

/// Every document source, in a stable order: sec, alpaca, rss, cninfo, reddit.
std::span<const document_source_info> document_sources();
/// The source called `name`; nullptr when there is none.
const document_source_info* find_document_source(std::string_view name);
/// The names joined with ", " (error messages, docs).
std::string document_source_names_joined();

/// One normalized document (market.v1.Document).
struct document {
  std::string source;    ///< a document_sources() name
  std::string native_id; ///< the source's own id (accession, announcementId, post id; "u" + URL hash without one)
  document_kind kind = document_kind::news;
  std::vector<std::string> symbols; ///< AAPL, 600000.SH, 000001.SZ; sorted, unique
  std::string title;
  std::string summary;
  std::string body; ///< plain text, HTML removed; "" where the source gives only a link
  std::string url;
  std::string language;             ///< "en", "zh"
  std::int64_t published_at_ns = 0; ///< the source's publication time, ns since the epoch, UTC
  std::int64_t fetched_at_ns = 0;   ///< local receive time
  /// The source's update time in ns (Alpaca updated_at, Reddit edited, Atom updated), a content hash for sources that
  /// state none (RSS), 0 for immutable documents (SEC accessions, cninfo announcements). A new value: a new revision.
  std::uint64_t revision = 0;
  std::map<std::string, std::string> fields; ///< source-specific fields (form, accession, sec_name, subreddit, ...)
  /// Field-wise equality.
  bool operator==(const document&) const = default;
};

/// `{source}:{native_id}`: the document across its revisions (the REST id, the database key).
std::string document_id(const document& d);
/// `Nats-Msg-Id`: `{source}:{native_id}:{revision}`.
std::string dedup_id(const document& d);
/// `market.doc.{source}.{kind}`.
std::string doc_subject(std::string_view source, document_kind kind);

/// Content-Type header of the payload.
inline constexpr std::string_view document_content_type = "application/x-protobuf; proto=market.v1.Document";

/// protobuf market.v1.Document bytes.
std::string encode_document_pb(const document& d);
result<document> decode_document_pb(std::string_view bytes);

/// One JSON object (no newline), keys in this order: id, source, native_id, kind, symbols, title, summary, body, url,
/// language, published_at_ns, fetched_at_ns, revision, fields (keys sorted). The expected files of the parser tests,
/// the REST and push replies.
std::string document_to_json(const document& d);

/// 64-bit FNV-1a of `s` (content hashes of revisions and URL ids; stable across builds and machines).
std::uint64_t fnv1a64(std::string_view s, std::uint64_t h = 14695981039346656037ull);

} // namespace mi
