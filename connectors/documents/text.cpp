#include "connectors/documents/text.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "connectors/time_text.hpp"
#include "messages/document.hpp"
#include "messages/util/civil_time.hpp"
#include "messages/util/text.hpp"

namespace mi::documents {
namespace {

struct named_entity {
  std::string_view name;
  char32_t code;
};

// The references news and feed HTML actually carries (Benzinga, Yahoo, Reddit); others are kept as written.
constexpr std::array entities{
  named_entity{"amp", U'&'},         named_entity{"lt", U'<'},         named_entity{"gt", U'>'},
  named_entity{"quot", U'"'},        named_entity{"apos", U'\''},      named_entity{"nbsp", U' '},
  named_entity{"ldquo", U'\u201c'},  named_entity{"rdquo", U'\u201d'}, named_entity{"lsquo", U'\u2018'},
  named_entity{"rsquo", U'\u2019'},  named_entity{"mdash", U'\u2014'}, named_entity{"ndash", U'\u2013'},
  named_entity{"hellip", U'\u2026'}, named_entity{"copy", U'\u00a9'},  named_entity{"reg", U'\u00ae'},
  named_entity{"trade", U'\u2122'},  named_entity{"euro", U'\u20ac'},  named_entity{"pound", U'\u00a3'},
};

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xc0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3f));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xe0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (c & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (c & 0x3f));
  }
}

// Decodes the reference at s[0] == '&'; returns the characters consumed (0: not a reference).
std::size_t decode_one(std::string_view s, std::string& out) {
  const auto semi = s.find(';');
  if (semi == std::string_view::npos || semi < 2 || semi > 10)
    return 0;
  const std::string_view name = s.substr(1, semi - 1);
  if (name[0] == '#') {
    char32_t v = 0;
    const bool hex = name.size() > 1 && (name[1] == 'x' || name[1] == 'X');
    const std::string_view digits = name.substr(hex ? 2 : 1);
    if (digits.empty())
      return 0;
    for (char c : digits) {
      const int d = hex ? util::hex_value(c) : (c >= '0' && c <= '9' ? c - '0' : -1);
      if (d < 0)
        return 0;
      v = v * (hex ? 16 : 10) + static_cast<char32_t>(d);
      if (v > 0x10ffff)
        return 0;
    }
    if (v == 0 || (v >= 0xd800 && v <= 0xdfff))
      return 0;
    append_utf8(out, v == 0xa0 ? U' ' : v);
    return semi + 1;
  }
  for (const auto& e : entities)
    if (e.name == name) {
      append_utf8(out, e.code);
      return semi + 1;
    }
  return 0;
}

bool is_block_tag(std::string_view tag) {
  // tag: the text after '<' up to '>', e.g. "p", "/p", "br/", "li class=x"
  if (!tag.empty() && tag[0] == '/')
    tag.remove_prefix(1);
  std::size_t n = 0;
  while (n < tag.size() && std::isalnum(static_cast<unsigned char>(tag[n])))
    ++n;
  std::string name(tag.substr(0, n));
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  static constexpr std::array<std::string_view, 14> blocks{"p",  "br", "div", "li", "ul", "ol",    "tr",
                                                           "h1", "h2", "h3",  "h4", "h5", "table", "blockquote"};
  return std::find(blocks.begin(), blocks.end(), name) != blocks.end();
}

// Collapses white space: runs of spaces/tabs to one space, lines trimmed, blank lines dropped.
std::string tidy(std::string_view s) {
  std::string out;
  std::string line;
  auto flush = [&] {
    const auto t = util::trim(line, " \t\r\f\v");
    if (!t.empty()) {
      if (!out.empty())
        out += '\n';
      out += t;
    }
    line.clear();
  };
  bool space = false;
  for (char c : s) {
    if (c == '\n') {
      flush();
      space = false;
    } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
      space = true;
    } else {
      if (space && !line.empty())
        line += ' ';
      space = false;
      line += c;
    }
  }
  flush();
  return out;
}

std::optional<int> month_of(std::string_view m) {
  static constexpr std::array<std::string_view, 12> months{"jan", "feb", "mar", "apr", "may", "jun",
                                                           "jul", "aug", "sep", "oct", "nov", "dec"};
  if (m.size() < 3)
    return std::nullopt;
  std::string l(m.substr(0, 3));
  std::transform(l.begin(), l.end(), l.begin(), [](unsigned char c) { return std::tolower(c); });
  for (std::size_t i = 0; i < months.size(); ++i)
    if (months[i] == l)
      return static_cast<int>(i) + 1;
  return std::nullopt;
}

std::optional<int> number(std::string_view s) {
  auto v = util::parse_digits(s);
  if (!v || *v > 100000)
    return std::nullopt;
  return static_cast<int>(*v);
}

// Splits on spaces (any run).
std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t'))
      ++i;
    const auto start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t')
      ++i;
    if (i > start)
      out.push_back(s.substr(start, i - start));
  }
  return out;
}

} // namespace

std::string decode_entities(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '&') {
      if (const auto n = decode_one(s.substr(i), out); n != 0) {
        i += n - 1;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

std::string html_to_text(std::string_view html) {
  std::string text;
  text.reserve(html.size());
  std::size_t i = 0;
  while (i < html.size()) {
    const char c = html[i];
    if (c == '<') {
      const auto close = html.find('>', i + 1);
      const bool tag_like =
        close != std::string_view::npos && i + 1 < html.size() &&
        (std::isalpha(static_cast<unsigned char>(html[i + 1])) || html[i + 1] == '/' || html[i + 1] == '!');
      if (tag_like) {
        if (is_block_tag(html.substr(i + 1, close - i - 1)))
          text += '\n';
        i = close + 1;
        continue;
      }
    }
    if (c == '&') {
      if (const auto n = decode_one(html.substr(i), text); n != 0) {
        i += n;
        continue;
      }
    }
    text += c;
    ++i;
  }
  return tidy(text);
}

std::optional<std::int64_t> parse_rfc822_ns(std::string_view s) {
  auto w = words(util::trim(s));
  if (!w.empty() && w[0].back() == ',')
    w.erase(w.begin()); // the day name
  if (w.size() < 4 || w.size() > 5)
    return std::nullopt;
  const auto day = number(w[0]);
  const auto month = month_of(w[1]);
  auto year = number(w[2]);
  if (!day || !month || !year || *day < 1 || *day > 31 || w[1].size() > 9)
    return std::nullopt;
  if (w[2].size() == 2)
    *year += *year < 50 ? 2000 : 1900;
  else if (w[2].size() != 4)
    return std::nullopt;
  // HH:MM[:SS]
  const std::string_view t = w[3];
  if (t.size() != 5 && t.size() != 8)
    return std::nullopt;
  const auto hh = number(t.substr(0, 2)), mm = number(t.substr(3, 2));
  const auto ss = t.size() == 8 ? number(t.substr(6, 2)) : std::optional<int>(0);
  if (t[2] != ':' || (t.size() == 8 && t[5] != ':') || !hh || !mm || !ss || *hh > 23 || *mm > 59 || *ss > 60)
    return std::nullopt;
  std::int64_t offset_s = 0;
  if (w.size() == 5) {
    const std::string_view z = w[4];
    if ((z[0] == '+' || z[0] == '-') && z.size() == 5) {
      const auto oh = number(z.substr(1, 2)), om = number(z.substr(3, 2));
      if (!oh || !om || *oh > 23 || *om > 59)
        return std::nullopt;
      offset_s = (z[0] == '+' ? 1 : -1) * (*oh * 3600 + *om * 60);
    } else {
      static constexpr std::array<std::pair<std::string_view, int>, 12> zones{{{"GMT", 0},
                                                                               {"UT", 0},
                                                                               {"UTC", 0},
                                                                               {"Z", 0},
                                                                               {"EST", -5},
                                                                               {"EDT", -4},
                                                                               {"CST", -6},
                                                                               {"CDT", -5},
                                                                               {"MST", -7},
                                                                               {"MDT", -6},
                                                                               {"PST", -8},
                                                                               {"PDT", -7}}};
      const auto it = std::find_if(zones.begin(), zones.end(), [&](const auto& p) { return p.first == z; });
      if (it == zones.end())
        return std::nullopt;
      offset_s = it->second * 3600;
    }
  }
  const std::int64_t secs =
    util::days_from_civil(*year, static_cast<unsigned>(*month), static_cast<unsigned>(*day)) * 86'400 + *hh * 3600 +
    *mm * 60 + *ss - offset_s;
  return secs * util::ns_per_second;
}

std::optional<std::int64_t> parse_feed_time_ns(std::string_view s) {
  s = util::trim(s);
  if (auto v = connectors::text::parse_rfc3339_ns(s))
    return v;
  return parse_rfc822_ns(s);
}

std::vector<std::string> cashtags(std::string_view text) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$')
      continue;
    if (i > 0 && std::isalnum(static_cast<unsigned char>(text[i - 1])))
      continue; // US$5, A$
    std::size_t j = i + 1;
    std::string tag;
    while (j < text.size() && std::isalpha(static_cast<unsigned char>(text[j])) && tag.size() <= 6)
      tag += static_cast<char>(std::toupper(static_cast<unsigned char>(text[j++])));
    if (tag.empty() || tag.size() > 6)
      continue;
    if (j + 1 < text.size() && text[j] == '.' && std::isalpha(static_cast<unsigned char>(text[j + 1])) &&
        (j + 2 == text.size() || !std::isalnum(static_cast<unsigned char>(text[j + 2])))) {
      tag += '.';
      tag += static_cast<char>(std::toupper(static_cast<unsigned char>(text[j + 1])));
      j += 2;
    }
    if (j < text.size() && (std::isalnum(static_cast<unsigned char>(text[j])) || text[j] == '_'))
      continue; // "$TSLA2", "$abcdefgh"
    out.push_back(std::move(tag));
  }
  normalize_symbols(out);
  return out;
}

void normalize_symbols(std::vector<std::string>& symbols) {
  std::sort(symbols.begin(), symbols.end());
  symbols.erase(std::unique(symbols.begin(), symbols.end()), symbols.end());
}

std::string hex64(std::uint64_t v) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4)
    out[static_cast<std::size_t>(i)] = digits[v & 0xf];
  return out;
}

std::string url_id(std::string_view url) {
  std::string canon(url.substr(0, url.find('#')));
  const auto scheme_end = canon.find("://");
  if (scheme_end != std::string::npos) {
    const auto host_end = canon.find('/', scheme_end + 3);
    const auto end = host_end == std::string::npos ? canon.size() : host_end;
    std::transform(canon.begin(), canon.begin() + static_cast<std::ptrdiff_t>(end), canon.begin(),
                   [](unsigned char c) { return std::tolower(c); });
  }
  return "u" + hex64(fnv1a64(canon));
}

} // namespace mi::documents
