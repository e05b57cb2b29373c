#include <doctest/doctest.h>

#include "connectors/documents/text.hpp"

namespace docs = mi::documents;

TEST_CASE("html_to_text: tags removed, blocks on their own lines, references decoded") {
  CHECK(docs::html_to_text("<p>A &amp; B</p><p>&nbsp;</p><p>C<br>D &ldquo;E&rdquo; &#39;F&#x27;</p>") ==
        "A & B\nC\nD \u201cE\u201d 'F'");
  CHECK(docs::html_to_text("  plain\ttext  ") == "plain text");
  CHECK(docs::html_to_text("1 < 2 and 3 > 2") == "1 < 2 and 3 > 2"); // not tags
  CHECK(docs::html_to_text("&unknown; &#0; &#xD800;") == "&unknown; &#0; &#xD800;");
  CHECK(docs::decode_entities("Waymo&#39;s <b>") == "Waymo's <b>");
}

TEST_CASE("rfc 822 times: zones by offset and by name, optional day name and seconds") {
  CHECK(docs::parse_rfc822_ns("Fri, 28 May 2021 10:17:09 -0400") == 1622211429000000000);
  CHECK(docs::parse_rfc822_ns("28 May 2021 14:17:09 GMT") == 1622211429000000000);
  CHECK(docs::parse_rfc822_ns("Fri, 28 May 2021 07:17 PDT") == 1622211420000000000);
  CHECK(docs::parse_rfc822_ns("Wed, 21 Oct 2015 07:28:00 GMT") == 1445412480000000000);
  CHECK_FALSE(docs::parse_rfc822_ns("28 Mai 2021 10:17:09 GMT"));
  CHECK_FALSE(docs::parse_rfc822_ns("28 May 2021 25:17:09 GMT"));
  CHECK_FALSE(docs::parse_rfc822_ns("28 May 2021 10:17:09 XYZ"));
  CHECK(docs::parse_feed_time_ns("2021-05-27T20:06:59Z") == 1622146019000000000);
  CHECK(docs::parse_feed_time_ns(" Fri, 28 May 2021 10:17:09 -0400 ") == 1622211429000000000);
}

TEST_CASE("cashtags: tickers with a class suffix, not prices or currency prefixes") {
  CHECK(docs::cashtags("$TSLA up, $brk.b flat, $5 calls, US$20, $GME. again $TSLA") ==
        std::vector<std::string>{"BRK.B", "GME", "TSLA"});
  CHECK(docs::cashtags("$ABCDEFGH is too long, $T2 is not one").empty());
}

TEST_CASE("url ids: scheme and host case and the fragment do not matter, the path does") {
  CHECK(docs::url_id("HTTPS://News.Example.com/a?b=1#top") == docs::url_id("https://news.example.com/a?b=1"));
  CHECK(docs::url_id("https://news.example.com/A") != docs::url_id("https://news.example.com/a"));
  CHECK(docs::url_id("https://x").size() == 17);
  CHECK(docs::hex64(0xcbf29ce484222325ull) == "cbf29ce484222325");
}
