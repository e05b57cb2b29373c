#include "connectors/documents/alpaca_news.hpp"

#include <simdjson.h>

#include "connectors/documents/json_doc.hpp"
#include "connectors/documents/text.hpp"
#include "connectors/rest_json.hpp"
#include "connectors/time_text.hpp"
#include "messages/util/civil_time.hpp"
#include "messages/util/json_writer.hpp"

namespace mi::documents::alpaca_news {
namespace {

namespace rest = mi::connectors::rest;
namespace dom = simdjson::dom;

using json::text_of;

mi::result<mi::document> to_document(dom::object o, const std::string& where, std::int64_t fetched_ns) {
  mi::document d;
  d.source = "alpaca";
  d.kind = mi::document_kind::news;
  d.language = "en";
  d.fetched_at_ns = fetched_ns;
  auto id = rest::int_field(o, "id", where);
  if (!id)
    return id.err();
  if (*id <= 0)
    return rest::field_error(where, "id", "must be > 0", mi::errc::bad_number);
  d.native_id = std::to_string(*id);
  auto headline = rest::string_field(o, "headline", where);
  if (!headline)
    return headline.err();
  d.title = decode_entities(*headline);
  auto created = rest::string_field(o, "created_at", where);
  if (!created)
    return created.err();
  const auto created_ns = connectors::text::parse_rfc3339_ns(*created);
  if (!created_ns)
    return rest::field_error(where, "created_at", "must be an RFC 3339 time", mi::errc::bad_timestamp);
  d.published_at_ns = *created_ns;
  d.revision = static_cast<std::uint64_t>(*created_ns);
  if (const std::string updated = text_of(o, "updated_at"); !updated.empty()) {
    const auto updated_ns = connectors::text::parse_rfc3339_ns(updated);
    if (!updated_ns || *updated_ns < 0)
      return rest::field_error(where, "updated_at", "must be an RFC 3339 time", mi::errc::bad_timestamp);
    d.revision = static_cast<std::uint64_t>(*updated_ns);
  }
  d.summary = html_to_text(text_of(o, "summary"));
  d.body = html_to_text(text_of(o, "content"));
  d.url = text_of(o, "url");
  dom::array symbols;
  if (!o["symbols"].get_array().get(symbols))
    for (dom::element s : symbols) {
      std::string_view v;
      if (s.get_string().get(v))
        return rest::field_error(where, "symbols", "must be an array of strings");
      if (!v.empty())
        d.symbols.emplace_back(v);
    }
  normalize_symbols(d.symbols);
  if (auto author = text_of(o, "author"); !author.empty())
    d.fields["author"] = std::move(author);
  if (auto provider = text_of(o, "source"); !provider.empty())
    d.fields["provider"] = std::move(provider);
  return d;
}

} // namespace

mi::result<news_page> parse_news_page(std::string_view body, std::int64_t fetched_ns) {
  dom::parser parser;
  auto parsed = json::parse_object(parser, body, "news page");
  if (!parsed)
    return parsed.err();
  dom::object root = *parsed;
  news_page page;
  dom::element news;
  if (root["news"].get(news))
    return mi::error{"news page: missing field 'news'", mi::errc::missing_field};
  if (!news.is_null()) {
    dom::array items;
    if (news.get_array().get(items))
      return mi::error{"news page: field 'news' must be an array", mi::errc::bad_field};
    auto ok = json::each_document(items, "news", page.documents, [&](dom::object o, const std::string& where) {
      return to_document(o, where, fetched_ns);
    });
    if (!ok)
      return ok.err();
  }
  std::string_view token;
  if (!root["next_page_token"].get_string().get(token) && !token.empty())
    page.next_page_token = std::string(token);
  return page;
}

mi::result<stream_frame> parse_stream_frame(std::string_view frame, std::int64_t fetched_ns) {
  dom::parser parser;
  auto doc = rest::parse_body(parser, frame);
  if (!doc)
    return doc.err();
  std::vector<dom::element> messages;
  dom::array list;
  if (!doc->get_array().get(list))
    messages.assign(list.begin(), list.end());
  else if (doc->is_object())
    messages.push_back(*doc); // one message without the array (the documentation's example)
  else
    return mi::error{"news frame: neither an array nor an object", mi::errc::malformed_json};
  stream_frame out;
  std::size_t i = 0;
  for (dom::element e : messages) {
    const std::string where = rest::element_name("message", i++);
    dom::object o;
    if (e.get_object().get(o))
      return mi::error{where + ": not an object", mi::errc::malformed_json};
    auto type = rest::string_field(o, "T", where);
    if (!type)
      return type.err();
    if (*type != "n") {
      stream_control c{std::string(*type), text_of(o, "msg"), 0};
      if (o["code"].get_int64().get(c.code))
        c.code = 0;
      out.control.push_back(std::move(c));
      continue;
    }
    auto d = to_document(o, where, fetched_ns);
    if (!d)
      return d.err();
    out.documents.push_back(std::move(*d));
  }
  return out;
}

mi::result<std::vector<mi::document>> parse_news_frame(std::string_view frame, std::int64_t fetched_ns) {
  auto f = parse_stream_frame(frame, fetched_ns);
  if (!f)
    return f.err();
  for (const auto& c : f->control)
    if (c.type == "error")
      return mi::error{"news stream error " + std::to_string(c.code) + ": " + c.msg, mi::errc::rejected};
  return std::move(f->documents);
}

mi::result<mi::document> parse_news_article(std::string_view body, std::int64_t fetched_ns) {
  dom::parser parser;
  auto o = json::parse_object(parser, body, "news article");
  if (!o)
    return o.err();
  return to_document(*o, "news article", fetched_ns);
}

std::string auth_request(std::string_view key_id, std::string_view secret_key) {
  std::string out = R"({"action":"auth","key":)";
  util::append_json_string(out, key_id);
  out += R"(,"secret":)";
  util::append_json_string(out, secret_key);
  return out + "}";
}

std::string subscribe_request(const std::vector<std::string>& symbols) {
  std::string out = R"({"action":"subscribe","news":)";
  util::append_json_string_array(out, symbols);
  return out + "}";
}

std::string news_target(std::int64_t start_ns, const std::vector<std::string>& symbols, std::string_view page_token) {
  std::string t = "/v1beta1/news?start=" + util::rfc3339(start_ns) + "&sort=asc&limit=50&include_content=true";
  if (!symbols.empty()) {
    t += "&symbols=";
    for (std::size_t i = 0; i < symbols.size(); ++i)
      t += (i ? "," : "") + symbols[i];
  }
  if (!page_token.empty()) { // base64: '+', '/' and '=' percent-encoded
    t += "&page_token=";
    for (char c : page_token)
      t += c == '+'   ? std::string("%2B")
           : c == '/' ? std::string("%2F")
           : c == '=' ? std::string("%3D")
                      : std::string(1, c);
  }
  return t;
}

} // namespace mi::documents::alpaca_news
