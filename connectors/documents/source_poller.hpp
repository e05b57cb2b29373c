#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "connectors/documents/sec.hpp"
#include "connectors/documents/source_schedule.hpp"
#include "messages/document.hpp"

/// What one document source asks for and what it makes of the answers (pure: no socket, the time passed in). The
/// source's actor (actors/document_source) sends the requests it gets from next() and hands every answer to
/// on_response(); everything else is here: which URLs a poll reads (feed pages, per-item requests, the next page),
/// the request headers (User-Agent, Alpaca's keys, conditional validators), the schedule (source_schedule.hpp), and
/// the parsing of each answer into documents.
namespace mi::documents {

/// One source's settings (config documents.sources.<name>, documents.user_agent, the source's credentials).
struct source_settings {
  std::string source;             ///< a document_sources() name
  std::string url;                ///< base URL: https://www.sec.gov, https://data.alpaca.markets, ...
  std::vector<std::string> items; ///< sec tickers, alpaca symbols, rss feed URLs, cninfo "code,orgId", subreddits
  std::string user_agent;         ///< every request's User-Agent ("" = the transport's own)
  std::string key_id, secret_key; ///< alpaca: APCA-API-KEY-ID / APCA-API-SECRET-KEY (never logged)
  schedule_config schedule;
  int max_pages = 10; ///< pages one poll follows at most (SEC current feed, Alpaca news, Reddit)
};

/// One HTTP request to send.
struct source_request {
  std::string url;                                          ///< absolute
  std::vector<std::pair<std::string, std::string>> headers; ///< values may be secrets: never log them
  std::optional<std::string> form;                          ///< a POST body (cninfo); nullopt: GET
  std::string what; ///< atom, tickers, submissions, submissions_file, news, feed, cninfo, reddit
  std::string item; ///< the config item it reads ("" for the source's feed)
  int page = 1;     ///< 1 for a poll's first request of `item`
};

/// An HTTP answer (any status).
struct source_response {
  int status = 0;
  std::string body;
  std::string etag;          ///< ETag header
  std::string last_modified; ///< Last-Modified header
  std::string retry_after;   ///< Retry-After header
};

/// What an answer gave.
struct source_step {
  request_outcome outcome = request_outcome::ok;
  std::vector<mi::document> documents; ///< to publish (repeats included: dedup ids make them one)
  std::optional<source_gap> gap;       ///< the outage this success ended was longer than the backfill horizon
  std::string error;                   ///< why it failed, for the log ("" when ok)
};

/// The poller of one source.
class source_poller {
public:
  /// Throws nothing; `seed` drives the jitter.
  source_poller(source_settings settings, std::uint64_t seed, std::int64_t now_ns);

  /// The request to send now, or the ns to wait before asking again.
  std::variant<source_request, std::int64_t> next(std::int64_t now_ns);

  /// The answer to `req` (the last next() gave); nullopt with `network_error` when there was none.
  source_step on_response(const source_request& req, const std::optional<source_response>& res,
                          std::string_view network_error, std::int64_t now_ns);

  /// alpaca: the news stream became live (subscribed) at `now_ns`. Polls pause while it stays live, after one
  /// catch-up poll at once (what was published between the last poll and the subscription).
  void stream_up(std::int64_t now_ns);
  /// alpaca: the live news stream went down at `now_ns`: a catch-up poll at once, then the schedule's polls again.
  void stream_down(std::int64_t now_ns);
  /// alpaca: an article came over the stream at `now_ns`; catch-up polls read from its time on.
  void stream_seen(const mi::document& d, std::int64_t now_ns);
  /// True while the news stream is live (polls paused).
  bool stream_live() const { return stream_live_; }
  /// A catch-up poll reads from this long before the newest article seen: an article can reach the stream a little
  /// after its created_at, and one stamped just before the drop must not fall between the two paths.
  static constexpr std::int64_t catch_up_margin_ns = 60'000'000'000;

  circuit_state state() const { return schedule_.state(); }
  const source_settings& settings() const { return settings_; }

private:
  void start_poll(std::int64_t now_ns);
  source_request make(std::string url, std::string what, std::string item, int page) const;
  mi::result<std::vector<mi::document>> parse(const source_request& req, const std::string& body, std::int64_t now_ns);

  source_settings settings_;
  source_schedule schedule_;
  std::deque<source_request> queue_;                    ///< this poll's requests still to send
  std::map<std::string, validators> cond_;              ///< URL -> ETag / Last-Modified of its last 200
  sec::cik_tickers tickers_;                            ///< sec: company_tickers.json, read once
  std::set<std::string> seen_;                          ///< sec: accessions of the previous pages (paging stops at one)
  std::map<std::string, sec::submissions> overflow_of_; ///< sec: overflow file name -> its company (rows not kept)
  std::set<std::string> overflow_read_;                 ///< sec: overflow files read (older filings do not change)
  std::int64_t news_since_ns_ = 0; ///< alpaca: the newest article time seen (the next poll's start)
  bool stream_live_ = false;       ///< alpaca: the news stream is subscribed
  bool catch_up_ = false;          ///< alpaca: poll at once (the stream came up or went down)
};

} // namespace mi::documents
