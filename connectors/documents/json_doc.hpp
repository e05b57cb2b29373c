#pragma once

// Shared by the JSON document parsers (include from .cpp files only: it pulls in simdjson): the body as an object,
// an array of article objects each made into a document, and a field's text whatever its JSON type.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "connectors/rest_json.hpp"
#include "messages/document.hpp"

namespace mi::documents::json {

namespace dom = simdjson::dom;

/// The body parsed as a JSON object; "<what>: not an object" otherwise.
inline mi::result<dom::object> parse_object(dom::parser& parser, std::string_view body, std::string_view what) {
  auto doc = connectors::rest::parse_body(parser, body);
  if (!doc)
    return doc.err();
  dom::object o;
  if (doc->get_object().get(o))
    return mi::error{std::string(what) + ": not an object", mi::errc::malformed_json};
  return o;
}

/// A string's content or a number's text; "" for null, absent and other types.
inline std::string text_of(dom::element e) {
  if (e.is_null())
    return {};
  std::string_view s;
  if (!e.get_string().get(s))
    return std::string(s);
  if (e.is_number())
    return std::string(simdjson::minify(e));
  return {};
}

/// text_of the field `key` of `o`.
inline std::string text_of(dom::object o, std::string_view key) {
  dom::element e;
  return o[key].get(e) ? std::string() : text_of(e);
}

/// Each object of `items` (named `<name>[i]` in errors) through `make` into `out`; the first error stops.
template <class Make>
mi::result<bool> each_document(dom::array items, std::string_view name, std::vector<mi::document>& out, Make make) {
  std::size_t i = 0;
  for (dom::element e : items) {
    const std::string where = connectors::rest::element_name(name, i++);
    dom::object o;
    if (e.get_object().get(o))
      return mi::error{where + ": not an object", mi::errc::malformed_json};
    auto d = make(o, where);
    if (!d)
      return d.err();
    out.push_back(std::move(*d));
  }
  return true;
}

} // namespace mi::documents::json
