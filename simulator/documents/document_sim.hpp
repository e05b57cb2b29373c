#pragma once

// A loopback stand-in for the document sources (issue 14; docs/simulator.md "Document sources"): it serves each
// source's real format at its real path, so the platform's parsers and pollers run unchanged against it, with faults
// injected at run time. Pure state and rendering here (document_sim); the HTTP server in document_sim_server.hpp.

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mi::sim::documents {

/// One item a source lists.
struct sim_item {
  std::string id; ///< accession, article id, guid, post name, announcementId
  std::string title;
  std::string body;
  std::vector<std::string> symbols; ///< tickers / cashtags / sec code ("600600")
  std::int64_t published_ns = 0;
  std::int64_t updated_ns = 0; ///< alpaca updated_at, reddit edited (0: never)
  /// sec: an old filing: only in the company's submissions overflow file (CIK0000320193-submissions-001.json), not
  /// in the current feed nor in `filings.recent`.
  bool archived = false;
};

/// A source's answer: status, body, content type, extra headers.
struct sim_reply {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers{};
};

/// Faults of one source, consumed one per request.
struct sim_faults {
  int fail = 0; ///< answer `fail_status` to the next N requests
  int fail_status = 503;
  int throttle = 0; ///< answer 429 with Retry-After `retry_after_s` to the next N requests
  int retry_after_s = 1;
  int malformed = 0; ///< answer 200 with a truncated body to the next N requests
};

/// The items and faults of every source; thread-safe.
class document_sim {
public:
  /// Each source starts with `initial` items (published one minute apart, ending `now_ns`).
  document_sim(std::int64_t now_ns, int initial = 3);

  /// The answer to a request for `path` (+ `query`, and the POST `form`): /cgi-bin/browse-edgar (sec Atom),
  /// /submissions/CIK0000320193.json (sec submissions: the items not archived in `filings.recent`, and `filings.files`
  /// naming CIK0000320193-submissions-001.json with the archived ones when there are any),
  /// /v1beta1/news (alpaca), /rss/<name> (rss), /new/hisAnnouncement/query (cninfo), /r/<sub>/new.json (reddit);
  /// /sim/doc?... runs a command (below). `source_of(path)` says which source a path is.
  sim_reply handle(std::string_view path, std::string_view query, std::string_view form);

  /// Commands (GET /sim/doc?source=S&action=A...): add (&title=&body=&symbol=): a new item; update (&id=&body=): the
  /// item's new revision (updated time now); fail (&count=&status=), throttle (&count=&retry_after=), malformed
  /// (&count=); requests: how many requests the source has had (JSON {"requests":N,"times_ns":[...]}).
  sim_reply command(std::string_view query);

  /// Requests served per source (faults included).
  std::uint64_t requests(const std::string& source) const;
  /// Receive times (ns) of each request of a source.
  std::vector<std::int64_t> request_times(const std::string& source) const;

  /// Adds an item to `source`; returns its id.
  std::string add(const std::string& source, sim_item item);
  /// A new revision of an item (false: unknown id).
  bool update(const std::string& source, const std::string& id, const std::string& body, std::int64_t now_ns);
  /// Sets the faults of `source`.
  void set_faults(const std::string& source, sim_faults f);

  /// The source a path belongs to ("" for none).
  static std::string source_of(std::string_view path);

  /// Called (outside the lock, on the caller's thread) with each item added or updated: the news stream pushes
  /// alpaca's to its subscribers (news_stream_server.hpp). One listener; set it before serving.
  void set_listener(std::function<void(const std::string& source, const sim_item& item)> f);

private:
  sim_reply render(const std::string& source, std::string_view path, std::string_view query,
                   std::string_view form) const;

  mutable std::mutex mu_;
  std::map<std::string, std::vector<sim_item>> items_; ///< per source, oldest first
  std::map<std::string, sim_faults> faults_;
  std::map<std::string, std::vector<std::int64_t>> requests_;
  std::uint64_t next_id_ = 1;
  std::function<void(const std::string&, const sim_item&)> listener_;
};

/// One Alpaca news article as the REST page and the stream both carry it (the stream adds "T":"n").
std::string alpaca_article_json(const sim_item& it, bool stream);

/// One client of the simulated Alpaca news stream (/v1beta1/news), pure: greeting "connected", auth by message
/// (key id and secret checked against ALPACA_SIM_KEY_ID / ALPACA_SIM_SECRET_KEY, default PKSIMULATOR /
/// simulator-secret, as the trade stream's simulator), subscribe {"news":[...]} answered with the subscription
/// list, and errors in Alpaca's shape (400 invalid syntax, 401 not authenticated, 402 auth failed, 403 already
/// authenticated).
class news_stream_protocol {
public:
  news_stream_protocol();
  /// What a new connection is sent first.
  static std::string greeting();
  /// The answer to one client frame (one frame, or none).
  std::vector<std::string> on_text(std::string_view text);
  /// True once subscribed: it gets the `n` frames of new items (of its symbols, or all with "*").
  bool subscribed() const { return subscribed_; }
  /// The frame of `item` for this client; nullopt when it is not subscribed to the item's symbols.
  std::optional<std::string> news_frame(const sim_item& item) const;

private:
  std::string key_, secret_;
  bool authenticated_ = false;
  bool subscribed_ = false;
  bool all_ = false;
  std::vector<std::string> symbols_;
};

} // namespace mi::sim::documents
