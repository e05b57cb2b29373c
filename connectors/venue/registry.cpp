// make_venue() over the factory table generated from the mi_add_venue() calls, by the names of the venue
// registry (messages/venue_registry.cpp).
#include <string>

#include "connectors/venue/detail.hpp"
#include "connectors/venue/venue.hpp"
#include "messages/venue_registry.hpp"

namespace mi::venue {

mi::result<std::unique_ptr<venue>> make_venue(std::string_view exchange, const venue_options& o) {
  if (mi::find_venue(exchange) != nullptr) {
    for (const detail::registered_venue& r : detail::registered_venues())
      if (r.name == exchange)
        return r.make(o);
    return mi::error{"exchange '" + std::string(exchange) + "' has no venue adapter (no mi_add_venue(" +
                     std::string(exchange) + ") in connectors/" + std::string(exchange) + "/CMakeLists.txt)"};
  }
  return mi::error{"unknown exchange '" + std::string(exchange) + "' (known: " + mi::venue_names_joined() + ")"};
}

mi::result<std::unique_ptr<venue>> make_venue(std::string_view exchange, const venue_options& o,
                                              instruments_ptr instruments) {
  auto v = make_venue(exchange, o);
  if (!v || !instruments)
    return v;
  const std::string parsed_by(instruments->venue_name());
  if (!(*v)->use_instruments(std::move(instruments)))
    return mi::error{"instruments parsed by " + parsed_by + " cannot serve " + std::string(exchange)};
  return v;
}

mi::result<std::size_t> venue::load_instruments(std::string_view body) {
  auto table = parse_instruments(body);
  if (!table)
    return table.err();
  const auto n = (*table)->size();
  use_instruments(std::move(*table));
  return n;
}

const std::vector<std::string>& exchange_names() {
  static const std::vector<std::string> names = mi::venue_names();
  return names;
}

} // namespace mi::venue
