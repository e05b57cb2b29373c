#include "connectors/documents/feeds.hpp"

#include <pugixml.hpp>

#include "connectors/documents/text.hpp"
#include "messages/util/text.hpp"

namespace mi::documents::feeds {
namespace {

mi::error bad(std::string what, mi::errc code = mi::errc::bad_field) { return mi::error{std::move(what), code}; }

std::string language_of(std::string_view tag, std::string_view fallback) {
  tag = util::trim(tag);
  if (tag.empty())
    return std::string(fallback);
  std::string out(tag.substr(0, tag.find_first_of("-_")));
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// pugixml's child() matches the full qualified name; feeds use the usual prefixes.
pugi::xml_node child_any(pugi::xml_node n, std::initializer_list<const char*> names) {
  for (const char* name : names)
    if (auto c = n.child(name))
      return c;
  return {};
}

void finish(mi::document& d, std::string_view feed_name) {
  d.source = "rss";
  d.kind = mi::document_kind::news;
  d.fields["feed"] = std::string(feed_name);
  auto tags = cashtags(d.title + "\n" + d.summary);
  d.symbols = std::move(tags);
  std::erase_if(d.fields, [](const auto& kv) { return kv.second.empty(); });
}

mi::result<std::vector<mi::document>> parse_rss(pugi::xml_node channel, std::string_view feed_name,
                                                std::string_view default_language, std::int64_t fetched_ns) {
  std::vector<mi::document> out;
  const std::string language = language_of(channel.child_value("language"), default_language);
  std::size_t i = 0;
  for (pugi::xml_node item : channel.children("item")) {
    const std::string where = "item[" + std::to_string(i++) + "]";
    mi::document d;
    d.title = html_to_text(item.child_value("title"));
    d.url = std::string(util::trim(item.child_value("link")));
    d.summary = html_to_text(item.child_value("description"));
    d.body = html_to_text(child_any(item, {"content:encoded"}).child_value());
    const std::string guid(util::trim(item.child_value("guid")));
    if (!guid.empty())
      d.native_id = std::string(feed_name) + "/" + guid; // a guid is unique within its feed only
    else if (!d.url.empty())
      d.native_id = url_id(d.url);
    else
      return bad(where + ": neither <guid> nor <link>", mi::errc::missing_field);
    const auto when = parse_feed_time_ns(child_any(item, {"pubDate", "dc:date"}).child_value());
    if (!when)
      return bad(where + ": <pubDate> is not an RFC 822 or ISO 8601 time", mi::errc::bad_timestamp);
    d.published_at_ns = *when;
    d.fetched_at_ns = fetched_ns;
    d.language = language;
    d.revision = fnv1a64(d.title + '\0' + d.summary + '\0' + d.body + '\0' + d.url) >> 1; // fits int64 columns
    d.fields["publisher"] = std::string(util::trim(item.child_value("source")));
    d.fields["author"] = std::string(util::trim(child_any(item, {"author", "dc:creator"}).child_value()));
    std::string categories;
    for (pugi::xml_node c : item.children("category"))
      categories += (categories.empty() ? "" : ", ") + std::string(util::trim(c.child_value()));
    d.fields["categories"] = categories;
    finish(d, feed_name);
    out.push_back(std::move(d));
  }
  return out;
}

mi::result<std::vector<mi::document>> parse_atom(pugi::xml_node feed, std::string_view feed_name,
                                                 std::string_view default_language, std::int64_t fetched_ns) {
  std::vector<mi::document> out;
  const std::string language = language_of(feed.attribute("xml:lang").value(), default_language);
  std::size_t i = 0;
  for (pugi::xml_node entry : feed.children("entry")) {
    const std::string where = "entry[" + std::to_string(i++) + "]";
    mi::document d;
    d.title = html_to_text(entry.child_value("title"));
    for (pugi::xml_node link : entry.children("link")) {
      const std::string_view rel = link.attribute("rel").value();
      if (rel.empty() || rel == "alternate") {
        d.url = link.attribute("href").value();
        break;
      }
    }
    d.summary = html_to_text(entry.child_value("summary"));
    d.body = html_to_text(entry.child_value("content"));
    const std::string id(util::trim(entry.child_value("id")));
    if (!id.empty())
      d.native_id = std::string(feed_name) + "/" + id;
    else if (!d.url.empty())
      d.native_id = url_id(d.url);
    else
      return bad(where + ": neither <id> nor <link>", mi::errc::missing_field);
    const auto updated = parse_feed_time_ns(entry.child_value("updated"));
    const auto published = parse_feed_time_ns(entry.child_value("published"));
    if (!updated && !published)
      return bad(where + ": neither <published> nor <updated> is an RFC 3339 time", mi::errc::bad_timestamp);
    d.published_at_ns = published ? *published : *updated;
    d.revision = static_cast<std::uint64_t>(std::max<std::int64_t>(0, updated ? *updated : *published));
    d.fetched_at_ns = fetched_ns;
    d.language = language_of(entry.attribute("xml:lang").value(), language);
    d.fields["author"] = std::string(util::trim(entry.child("author").child_value("name")));
    std::string categories;
    for (pugi::xml_node c : entry.children("category"))
      categories += (categories.empty() ? "" : ", ") + std::string(c.attribute("term").value());
    d.fields["categories"] = categories;
    finish(d, feed_name);
    out.push_back(std::move(d));
  }
  return out;
}

} // namespace

mi::result<std::vector<mi::document>> parse_feed(std::string_view body, std::string_view feed_name,
                                                 std::string_view default_language, std::int64_t fetched_ns) {
  pugi::xml_document xml;
  const auto parsed = xml.load_buffer(body.data(), body.size(), pugi::parse_default, pugi::encoding_auto);
  if (!parsed)
    return bad(std::string("not XML: ") + parsed.description(), mi::errc::malformed_json);
  if (auto rss = xml.child("rss"))
    return parse_rss(rss.child("channel"), feed_name, default_language, fetched_ns);
  if (auto feed = xml.child("feed"))
    return parse_atom(feed, feed_name, default_language, fetched_ns);
  return bad("neither RSS 2.0 (<rss>) nor Atom (<feed>)", mi::errc::unsupported_message);
}

} // namespace mi::documents::feeds
