#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/document.hpp"
#include "messages/result.hpp"

/// Alpaca news (Benzinga) (pure): REST GET /v1beta1/news pages (`{"news":[...],"next_page_token":...}`) and the
/// WebSocket stream's frames (wss://stream.data.alpaca.markets/v1beta1/news: arrays of `T:"n"` news objects and
/// control messages). Each article: native_id its id, title the headline, summary and body (the `content` HTML) as
/// plain text, url, symbols as sent, published_at created_at, revision updated_at in ns (an edit is a new revision),
/// fields author and provider (Benzinga's `source`).
namespace mi::documents::alpaca_news {

/// One REST page.
struct news_page {
  std::vector<mi::document> documents;
  std::optional<std::string> next_page_token; ///< nullopt: the last page
};

/// Parses a REST page; an error names the article ("news[1]: missing field 'id'").
mi::result<news_page> parse_news_page(std::string_view body, std::int64_t fetched_ns);

/// Parses one article object (what a page's `news` array and a stream `n` message hold).
mi::result<mi::document> parse_news_article(std::string_view body, std::int64_t fetched_ns);

/// Parses one WebSocket frame (an array of messages, or one message object): the `n` messages' documents; control
/// messages (success, subscription) give none; an `error` message is an error (errc::rejected, its code and text).
mi::result<std::vector<mi::document>> parse_news_frame(std::string_view frame, std::int64_t fetched_ns);

/// A message of a stream frame that is not an article (success, subscription, error).
struct stream_control {
  std::string type;      ///< T
  std::string msg;       ///< msg ("connected", "authenticated", an error's text)
  std::int64_t code = 0; ///< an error's code (402 auth failed, 406 connection limit exceeded, ...)
};

/// One stream frame, split.
struct stream_frame {
  std::vector<stream_control> control; ///< in frame order
  std::vector<mi::document> documents; ///< the `n` messages, in frame order
};

/// Parses one WebSocket frame (an array of messages, or one message object) into its control messages and articles;
/// an error for a frame that is not JSON, a message without `T` and an article that does not parse.
mi::result<stream_frame> parse_stream_frame(std::string_view frame, std::int64_t fetched_ns);

/// The auth request of the news stream: {"action":"auth","key":..,"secret":..} (a secret: never log it).
std::string auth_request(std::string_view key_id, std::string_view secret_key);

/// The subscribe request of the news stream for `symbols` ("*": all news).
std::string subscribe_request(const std::vector<std::string>& symbols);

/// GET /v1beta1/news?start=<RFC 3339>&sort=asc&limit=50&include_content=true[&symbols=..][&page_token=..].
std::string news_target(std::int64_t start_ns, const std::vector<std::string>& symbols, std::string_view page_token);

} // namespace mi::documents::alpaca_news
