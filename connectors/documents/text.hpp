#pragma once

// Text rules every document parser shares (pure): HTML to plain text, the times of feeds (RFC 822 and RFC 3339),
// cashtags, and the URL hash ids of sources without ids.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mi::documents {

/// `html` as plain text: tags removed (a block tag such as <p>, <br>, <li> becomes a line break), character references
/// decoded (&amp; &#39; &#x4e2d; &nbsp; &ldquo; ...; an unknown one is kept as written), runs of white space in a line
/// collapsed to one space, blank lines and the ends trimmed. Also right for text that has no markup.
std::string html_to_text(std::string_view html);

/// Character references decoded only (no tag removal); what html_to_text does to text between tags.
std::string decode_entities(std::string_view s);

/// RFC 822 / RFC 2822 date-time, as RSS 2.0 writes it: "[Fri, ]28 May 2021 10:17:09 -0400" (zone +-HHMM, GMT, UT, UTC,
/// Z, or a US zone EST EDT CST CDT MST MDT PST PDT; seconds optional; 2-digit years are 19xx/20xx) -> ns since the
/// epoch. nullopt when it is not one.
std::optional<std::int64_t> parse_rfc822_ns(std::string_view s);

/// A feed time: RFC 3339 (Atom, and RSS feeds that write ISO 8601 such as Yahoo's item pubDate) or RFC 822.
std::optional<std::int64_t> parse_feed_time_ns(std::string_view s);

/// Cashtags of a text: "$TSLA", "$brk.b" -> "TSLA", "BRK.B" (1-6 letters, an optional .X class suffix; not "$5",
/// not "US$"); sorted, unique.
std::vector<std::string> cashtags(std::string_view text);

/// Sorts and removes duplicates.
void normalize_symbols(std::vector<std::string>& symbols);

/// The id of a document whose source gives none: "u" + 16 hex digits of fnv1a64 of the canonical URL (scheme and host
/// lower-cased, the fragment dropped).
std::string url_id(std::string_view url);

/// 16 lower-case hex digits.
std::string hex64(std::uint64_t v);

} // namespace mi::documents
