#include "messages/document.hpp"

#include <array>

#include "market.pb.h"
#include "messages/util/json_writer.hpp"

namespace mi {
namespace {

constexpr std::array kind_names{std::string_view{}, std::string_view{"filing"}, std::string_view{"news"},
                                std::string_view{"announcement"}, std::string_view{"social"}};

// The document sources: one line each (docs/operations.md "Documents"). A new source is one line here plus its
// parser in connectors/documents/.
constexpr std::array sources{
  document_source_info{"sec", document_kind::filing, "https://www.sec.gov", "en"},
  document_source_info{"alpaca", document_kind::news, "https://data.alpaca.markets", "en",
                       "wss://stream.data.alpaca.markets/v1beta1/news"},
  document_source_info{"rss", document_kind::news, "https://feeds.finance.yahoo.com", "en"},
  document_source_info{"cninfo", document_kind::announcement, "http://www.cninfo.com.cn", "zh"},
  document_source_info{"reddit", document_kind::social, "https://www.reddit.com", "en"},
};

} // namespace

std::string_view to_string(document_kind k) {
  const auto i = static_cast<std::size_t>(k);
  return i < kind_names.size() ? kind_names[i] : std::string_view{};
}

std::optional<document_kind> parse_document_kind(std::string_view s) {
  for (std::size_t i = 1; i < kind_names.size(); ++i)
    if (kind_names[i] == s)
      return static_cast<document_kind>(i);
  return std::nullopt;
}

std::span<const document_source_info> document_sources() { return sources; }

const document_source_info* find_document_source(std::string_view name) {
  for (const auto& s : sources)
    if (s.name == name)
      return &s;
  return nullptr;
}

std::string document_source_names_joined() {
  std::string out;
  for (const auto& s : sources) {
    if (!out.empty())
      out += ", ";
    out += s.name;
  }
  return out;
}

std::string document_id(const document& d) { return d.source + ":" + d.native_id; }

std::string dedup_id(const document& d) { return document_id(d) + ":" + std::to_string(d.revision); }

std::string doc_subject(std::string_view source, document_kind kind) {
  std::string s = "market.doc.";
  s += source;
  s += '.';
  s += to_string(kind);
  return s;
}

std::uint64_t fnv1a64(std::string_view s, std::uint64_t h) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string encode_document_pb(const document& d) {
  market::v1::Document m;
  m.set_id(document_id(d));
  m.set_source(d.source);
  m.set_native_id(d.native_id);
  m.set_kind(static_cast<market::v1::DocumentKind>(d.kind));
  for (const auto& s : d.symbols)
    m.add_symbols(s);
  m.set_title(d.title);
  m.set_summary(d.summary);
  m.set_body(d.body);
  m.set_url(d.url);
  m.set_language(d.language);
  m.set_published_at_ns(d.published_at_ns);
  m.set_fetched_at_ns(d.fetched_at_ns);
  m.set_revision(d.revision);
  for (const auto& [k, v] : d.fields)
    (*m.mutable_fields())[k] = v;
  return m.SerializeAsString();
}

result<document> decode_document_pb(std::string_view bytes) {
  market::v1::Document m;
  if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return error{"not a market.v1.Document", errc::bad_input};
  if (to_string(static_cast<document_kind>(m.kind())).empty())
    return error{"market.v1.Document without a known kind", errc::bad_input};
  if (m.source().empty() || m.native_id().empty())
    return error{"market.v1.Document without source or native_id", errc::bad_input};
  document d;
  d.source = m.source();
  d.native_id = m.native_id();
  d.kind = static_cast<document_kind>(m.kind());
  d.symbols.assign(m.symbols().begin(), m.symbols().end());
  d.title = m.title();
  d.summary = m.summary();
  d.body = m.body();
  d.url = m.url();
  d.language = m.language();
  d.published_at_ns = m.published_at_ns();
  d.fetched_at_ns = m.fetched_at_ns();
  d.revision = m.revision();
  for (const auto& [k, v] : m.fields())
    d.fields.emplace(k, v);
  return d;
}

std::string document_to_json(const document& d) {
  using util::append_json_string;
  std::string out = "{\"id\":";
  append_json_string(out, document_id(d));
  out += ",\"source\":";
  append_json_string(out, d.source);
  out += ",\"native_id\":";
  append_json_string(out, d.native_id);
  out += ",\"kind\":";
  append_json_string(out, to_string(d.kind));
  out += ",\"symbols\":";
  util::append_json_string_array(out, d.symbols);
  out += ",\"title\":";
  append_json_string(out, d.title);
  out += ",\"summary\":";
  append_json_string(out, d.summary);
  out += ",\"body\":";
  append_json_string(out, d.body);
  out += ",\"url\":";
  append_json_string(out, d.url);
  out += ",\"language\":";
  append_json_string(out, d.language);
  out += ",\"published_at_ns\":" + std::to_string(d.published_at_ns);
  out += ",\"fetched_at_ns\":" + std::to_string(d.fetched_at_ns);
  out += ",\"revision\":" + std::to_string(d.revision);
  out += ",\"fields\":{";
  bool first = true;
  for (const auto& [k, v] : d.fields) {
    if (!first)
      out += ',';
    first = false;
    append_json_string(out, k);
    out += ':';
    append_json_string(out, v);
  }
  out += "}}";
  return out;
}

} // namespace mi
