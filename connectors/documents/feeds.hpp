#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "messages/document.hpp"
#include "messages/result.hpp"

/// Generic news feeds (pure): RSS 2.0 and Atom (RFC 4287), told apart by the root element. Source "rss" (one per
/// configured feed, named in fields["feed"]). Each item: native_id "<feed>/<guid or id>" (else a hash of the
/// link, url_id), title, summary (<description> / <summary> as plain text), body (<content:encoded> / Atom <content>),
/// url
/// (<link>), published_at (<pubDate> RFC 822 or ISO 8601, Atom <published> else <updated>), language from the channel
/// (<language> "en-US" -> "en"; `default_language` without one), symbols the cashtags of title and summary, revision
/// Atom <updated> in ns, for RSS (which states no update time) a hash of title, summary, body and link, fields feed,
/// publisher (RSS <source>), author, categories.
namespace mi::documents::feeds {

/// Parses an RSS 2.0 or Atom body. An item without a time or without both id and link is an error naming it.
mi::result<std::vector<mi::document>> parse_feed(std::string_view body, std::string_view feed_name,
                                                 std::string_view default_language, std::int64_t fetched_ns);

} // namespace mi::documents::feeds
