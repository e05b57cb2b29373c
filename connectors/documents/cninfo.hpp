#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/document.hpp"
#include "messages/result.hpp"

/// cninfo (巨潮资讯) A-share announcements (pure): POST http://www.cninfo.com.cn/new/hisAnnouncement/query pages
/// (field meanings: ../shared/fixtures/documents/cninfo/FIELDS.md). Each announcement: native_id its announcementId,
/// title without the <em> search highlights, url the PDF (http://static.cninfo.com.cn/<adjunctUrl>; kept, not
/// downloaded), symbols secCode with its exchange suffix (600600 -> 600600.SH), published_at announcementTime (epoch
/// ms: 00:00 Asia/Shanghai of the disclosure date), language zh, revision 0 (an announcement never changes: a
/// correction is a new announcement), fields sec_name, org_id, adjunct_type, adjunct_size_kb, announcement_type,
/// column_id, page_column, associate_announcement, detail_url.
namespace mi::documents::cninfo {

/// One page of the query.
struct announcement_page {
  std::vector<mi::document> documents;
  bool has_more = false;  ///< `hasMore`: ask for pageNum + 1
  std::int64_t total = 0; ///< `totalAnnouncement`
};

/// Parses a page (`announcements` may be null: no match).
mi::result<announcement_page> parse_query(std::string_view body, std::int64_t fetched_ns);

/// Parses one announcement object.
mi::result<mi::document> parse_announcement(std::string_view body, std::int64_t fetched_ns);

/// The exchange suffix of a 6-digit A-share code: 60xxxx, 68xxxx, 90xxxx -> "SH"; 00xxxx, 20xxxx, 30xxxx -> "SZ";
/// 43xxxx, 83xxxx, 87xxxx, 88xxxx, 92xxxx -> "BJ" (Beijing). nullopt otherwise.
std::optional<std::string_view> exchange_suffix(std::string_view sec_code);

/// The form body of the query: column, stock `<code>,<orgId>`, seDate `<from>~<to>` (YYYY-MM-DD), pageNum (1-based),
/// pageSize 30, tabName fulltext, isHLtitle false.
std::string query_form(std::string_view sec_code, std::string_view org_id, std::string_view from_date,
                       std::string_view to_date, int page);

} // namespace mi::documents::cninfo
