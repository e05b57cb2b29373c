// libFuzzer target for the document parsers (connectors/documents): SEC Atom, submissions (and their overflow files)
// and company_tickers, Alpaca news pages and frames (and the stream's client session), RSS / Atom feeds, cninfo pages,
// Reddit listings, Retry-After and feed times. Any input gives a value or an error, never a crash, a hang or undefined
// behaviour; every document has its id and survives the wire.
// Build: scripts/fuzz (cmake -DMI_FUZZ=ON with clang). Seeds: ../shared/fixtures/documents/*/* (scripts/fuzz).
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "connectors/documents/alpaca_news.hpp"
#include "connectors/documents/cninfo.hpp"
#include "connectors/documents/feeds.hpp"
#include "connectors/documents/news_stream.hpp"
#include "connectors/documents/reddit.hpp"
#include "connectors/documents/sec.hpp"
#include "connectors/documents/source_schedule.hpp"
#include "connectors/documents/text.hpp"

namespace {

void check(const mi::document& d) {
  if (d.source.empty() || d.native_id.empty() || !mi::find_document_source(d.source))
    __builtin_trap();
  auto back = mi::decode_document_pb(mi::encode_document_pb(d));
  if (!back || !(*back == d))
    __builtin_trap();
}

void check_all(const std::vector<mi::document>& ds) {
  for (const auto& d : ds)
    check(d);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  namespace docs = mi::documents;
  const docs::sec::cik_tickers tickers{{320193, {"AAPL"}}};
  if (auto r = docs::sec::parse_current_atom(in, tickers, 1))
    check_all(r->documents);
  if (auto r = docs::sec::parse_submissions(in, 1))
    check_all(r->documents);
  {
    const docs::sec::submissions apple{"0000320193", "Apple Inc.", {"AAPL"}, {}, {}, {}};
    if (auto r = docs::sec::parse_submissions_file(in, apple, "CIK0000320193-submissions-001.json", 1))
      check_all(*r);
  }
  (void)docs::sec::parse_company_tickers(in);
  if (auto r = docs::alpaca_news::parse_news_page(in, 1))
    check_all(r->documents);
  if (auto r = docs::alpaca_news::parse_news_frame(in, 1))
    check_all(*r);
  { // the news stream's client session in every phase: any frame gives frames to send, documents or an error
    docs::news_stream_session session("k", "s", {});
    for (const char* control :
         {"", R"([{"T":"success","msg":"connected"}])", R"([{"T":"success","msg":"authenticated"}])",
          R"([{"T":"subscription","news":["*"]}])"}) {
      if (*control != '\0')
        (void)session.on_frame(control, 1);
      check_all(session.on_frame(in, 1).documents);
    }
  }
  if (auto r = docs::feeds::parse_feed(in, "fuzz", "en", 1))
    check_all(*r);
  if (auto r = docs::cninfo::parse_query(in, 1))
    check_all(r->documents);
  if (auto r = docs::reddit::parse_listing(in, 1))
    check_all(r->documents);
  (void)docs::parse_retry_after_ns(in, 0);
  (void)docs::parse_feed_time_ns(in);
  (void)docs::html_to_text(in);
  (void)docs::cashtags(in);
  return 0;
}
