#include "connectors/documents/reddit.hpp"

#include <simdjson.h>

#include "connectors/documents/json_doc.hpp"
#include "connectors/documents/text.hpp"
#include "connectors/rest_json.hpp"
#include "connectors/time_text.hpp"

namespace mi::documents::reddit {
namespace {

namespace rest = mi::connectors::rest;
namespace dom = simdjson::dom;

using json::text_of;

// Reddit's epoch seconds are JSON numbers with a fraction ("1614556800.0"). The DOM keeps a double; its shortest
// round-trip text is the sent text for these values (10 digits and a short fraction), read as exact integer ns.
std::optional<std::int64_t> seconds_ns(dom::element e) {
  if (!e.is_number())
    return std::nullopt;
  const std::string lexeme = simdjson::minify(e);
  return connectors::text::parse_epoch_seconds_ns(lexeme);
}

mi::result<mi::document> to_document(dom::object o, const std::string& where, std::int64_t fetched_ns) {
  mi::document d;
  d.source = "reddit";
  d.kind = mi::document_kind::social;
  d.language = "en";
  d.fetched_at_ns = fetched_ns;
  auto name = rest::string_field(o, "name", where);
  if (!name)
    return name.err();
  if (name->empty())
    return rest::field_error(where, "name", "must not be empty");
  d.native_id = std::string(*name);
  auto title = rest::string_field(o, "title", where);
  if (!title)
    return title.err();
  d.title = decode_entities(*title);
  dom::element created;
  if (o["created_utc"].get(created))
    return mi::error{where + ": missing field 'created_utc'", mi::errc::missing_field};
  const auto created_ns = seconds_ns(created);
  if (!created_ns)
    return rest::field_error(where, "created_utc", "must be epoch seconds", mi::errc::bad_timestamp);
  d.published_at_ns = *created_ns;
  d.revision = static_cast<std::uint64_t>(*created_ns);
  dom::element edited;
  if (!o["edited"].get(edited) && edited.is_number()) {
    const auto edited_ns = seconds_ns(edited);
    if (!edited_ns)
      return rest::field_error(where, "edited", "must be false or epoch seconds", mi::errc::bad_timestamp);
    d.revision = static_cast<std::uint64_t>(*edited_ns);
  }
  d.body = html_to_text(text_of(o, "selftext"));
  const std::string permalink = text_of(o, "permalink");
  d.url = permalink.empty() ? text_of(o, "url") : "https://www.reddit.com" + permalink;
  d.summary = d.body.substr(0, std::min<std::size_t>(d.body.size(), d.body.find('\n')));
  d.symbols = cashtags(d.title + "\n" + d.body);
  d.fields = {{"subreddit", text_of(o, "subreddit")},
              {"author", text_of(o, "author")},
              {"score", text_of(o, "score")},
              {"num_comments", text_of(o, "num_comments")},
              {"flair", text_of(o, "link_flair_text")}};
  if (const std::string link = text_of(o, "url"); link != d.url)
    d.fields["link"] = link;
  std::erase_if(d.fields, [](const auto& kv) { return kv.second.empty(); });
  return d;
}

} // namespace

mi::result<listing_page> parse_listing(std::string_view body, std::int64_t fetched_ns) {
  dom::parser parser;
  auto parsed = json::parse_object(parser, body, "listing");
  if (!parsed)
    return parsed.err();
  dom::object root = *parsed, data;
  auto kind = rest::string_field(root, "kind", "listing");
  if (!kind)
    return kind.err();
  if (*kind != "Listing")
    return mi::error{"listing: kind is \"" + std::string(*kind) + "\", not \"Listing\"", mi::errc::unsupported_message};
  if (root["data"].get_object().get(data))
    return mi::error{"listing: missing field 'data'", mi::errc::missing_field};
  listing_page page;
  std::string_view after;
  if (!data["after"].get_string().get(after) && !after.empty())
    page.after = std::string(after);
  dom::array children;
  if (data["children"].get_array().get(children))
    return mi::error{"listing: missing field 'data.children'", mi::errc::missing_field};
  std::size_t i = 0;
  for (dom::element c : children) {
    const std::string where = rest::element_name("children", i++);
    dom::object child, post;
    if (c.get_object().get(child))
      return mi::error{where + ": not an object", mi::errc::malformed_json};
    std::string_view k;
    if (child["kind"].get_string().get(k) || k != "t3")
      continue;
    if (child["data"].get_object().get(post))
      return mi::error{where + ": missing field 'data'", mi::errc::missing_field};
    auto d = to_document(post, where, fetched_ns);
    if (!d)
      return d.err();
    page.documents.push_back(std::move(*d));
  }
  return page;
}

} // namespace mi::documents::reddit
