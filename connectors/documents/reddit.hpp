#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/document.hpp"
#include "messages/result.hpp"

/// Reddit listings (pure): GET https://www.reddit.com/r/<subreddit>/new.json
/// (`{"kind":"Listing","data":{"after":"t3_..","children":[{"kind":"t3","data":{...}}]}}`). Each post (kind t3):
/// native_id its fullname `name` ("t3_abc123"), title, body the selftext as plain text, url the permalink on
/// www.reddit.com, published_at created_utc, revision `edited` in ns (false: created_utc), symbols the cashtags of
/// title and selftext ($TSLA), fields subreddit, author, score, num_comments, link (the post's external url), flair.
namespace mi::documents::reddit {

/// One listing page.
struct listing_page {
  std::vector<mi::document> documents;
  std::optional<std::string> after; ///< `data.after`: the next page (?after=...); nullopt at the end
};

/// Parses a listing. Children that are not posts (kind other than t3) are skipped.
mi::result<listing_page> parse_listing(std::string_view body, std::int64_t fetched_ns);

} // namespace mi::documents::reddit
