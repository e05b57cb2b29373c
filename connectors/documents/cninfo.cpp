#include "connectors/documents/cninfo.hpp"

#include <simdjson.h>

#include "connectors/documents/json_doc.hpp"
#include "connectors/documents/text.hpp"
#include "connectors/rest_json.hpp"
#include "messages/util/civil_time.hpp"

namespace mi::documents::cninfo {
namespace {

namespace rest = mi::connectors::rest;
namespace dom = simdjson::dom;

constexpr std::int64_t shanghai_offset_ns = 8 * 3600 * util::ns_per_second;

using json::text_of;

mi::result<mi::document> to_document(dom::object o, const std::string& where, std::int64_t fetched_ns) {
  mi::document d;
  d.source = "cninfo";
  d.kind = mi::document_kind::announcement;
  d.language = "zh";
  d.fetched_at_ns = fetched_ns;
  d.native_id = text_of(o, "announcementId");
  if (d.native_id.empty() || !rest::digits_to_int(d.native_id))
    return rest::field_error(where, "announcementId", "must be a string of digits", mi::errc::missing_field);
  const std::string code = text_of(o, "secCode");
  const auto suffix = exchange_suffix(code);
  if (!suffix)
    return rest::field_error(where, "secCode", "must be a 6-digit A-share code, not \"" + code + "\"",
                             mi::errc::unknown_symbol);
  d.symbols = {code + "." + std::string(*suffix)};
  auto title = rest::string_field(o, "announcementTitle", where);
  if (!title)
    return title.err();
  d.title = html_to_text(*title);
  auto time_ms = rest::int_field(o, "announcementTime", where);
  if (!time_ms)
    return time_ms.err();
  const auto ns = rest::ms_to_ns(*time_ms);
  if (!ns)
    return rest::field_error(where, "announcementTime", "must be epoch milliseconds >= 0", mi::errc::bad_timestamp);
  d.published_at_ns = *ns;
  const std::string adjunct = text_of(o, "adjunctUrl");
  if (!adjunct.empty())
    d.url = "http://static.cninfo.com.cn/" + adjunct;
  d.body = html_to_text(text_of(o, "announcementContent"));
  const std::string sec_name = text_of(o, "secName");
  const std::string org_id = text_of(o, "orgId");
  d.summary = sec_name.empty() ? d.title : sec_name + "：" + d.title;
  const std::string date = util::date_text(util::civil_time_of(*ns + shanghai_offset_ns).date);
  d.fields = {{"sec_name", sec_name},
              {"org_id", org_id},
              {"adjunct_type", text_of(o, "adjunctType")},
              {"adjunct_size_kb", text_of(o, "adjunctSize")},
              {"announcement_type", text_of(o, "announcementType")},
              {"column_id", text_of(o, "columnId")},
              {"page_column", text_of(o, "pageColumn")},
              {"associate_announcement", text_of(o, "associateAnnouncement")},
              {"disclosure_date", date},
              {"detail_url", "http://www.cninfo.com.cn/new/disclosure/detail?stockCode=" + code +
                               "&announcementId=" + d.native_id + "&orgId=" + org_id + "&announcementTime=" + date}};
  std::erase_if(d.fields, [](const auto& kv) { return kv.second.empty(); });
  return d;
}

} // namespace

std::optional<std::string_view> exchange_suffix(std::string_view code) {
  if (code.size() != 6 || code.find_first_not_of("0123456789") != std::string_view::npos)
    return std::nullopt;
  const std::string_view p = code.substr(0, 2);
  if (p == "60" || p == "68" || p == "90")
    return "SH";
  if (p == "00" || p == "20" || p == "30")
    return "SZ";
  if (p == "43" || p == "83" || p == "87" || p == "88" || p == "92")
    return "BJ";
  return std::nullopt;
}

mi::result<announcement_page> parse_query(std::string_view body, std::int64_t fetched_ns) {
  dom::parser parser;
  auto parsed = json::parse_object(parser, body, "cninfo page");
  if (!parsed)
    return parsed.err();
  dom::object root = *parsed;
  announcement_page page;
  if (root["hasMore"].get_bool().get(page.has_more))
    page.has_more = false;
  if (root["totalAnnouncement"].get_int64().get(page.total))
    page.total = 0;
  dom::element list;
  if (root["announcements"].get(list))
    return mi::error{"cninfo page: missing field 'announcements'", mi::errc::missing_field};
  if (list.is_null())
    return page;
  dom::array items;
  if (list.get_array().get(items))
    return mi::error{"cninfo page: field 'announcements' must be an array or null", mi::errc::bad_field};
  auto ok = json::each_document(items, "announcements", page.documents, [&](dom::object o, const std::string& where) {
    return to_document(o, where, fetched_ns);
  });
  if (!ok)
    return ok.err();
  return page;
}

mi::result<mi::document> parse_announcement(std::string_view body, std::int64_t fetched_ns) {
  dom::parser parser;
  auto o = json::parse_object(parser, body, "announcement");
  if (!o)
    return o.err();
  return to_document(*o, "announcement", fetched_ns);
}

std::string query_form(std::string_view sec_code, std::string_view org_id, std::string_view from_date,
                       std::string_view to_date, int page) {
  std::string f = "pageNum=" + std::to_string(page) + "&pageSize=30&column=szse&tabName=fulltext&plate=&stock=";
  f += std::string(sec_code) + "%2C" + std::string(org_id);
  f += "&searchkey=&secid=&category=&trade=&seDate=" + std::string(from_date) + "~" + std::string(to_date);
  f += "&sortName=&sortType=&isHLtitle=false";
  return f;
}

} // namespace mi::documents::cninfo
