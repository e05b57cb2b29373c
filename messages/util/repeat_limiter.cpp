#include "messages/util/repeat_limiter.hpp"

#include <algorithm>
#include <cctype>

namespace mi::util {

repeat_limiter::repeat_limiter(std::chrono::nanoseconds window, std::size_t burst, std::size_t max_kinds)
    : window_(window), burst_(std::max<std::size_t>(1, burst)), max_kinds_(std::max<std::size_t>(1, max_kinds)) {}

std::string repeat_limiter::kind_of(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool in_digits = false;
  for (char c : text) {
    const bool digit = std::isdigit(static_cast<unsigned char>(c)) != 0;
    if (digit && !in_digits)
      out += '#';
    else if (!digit)
      out += c;
    in_digits = digit;
  }
  return out;
}

repeat_limiter::summary repeat_limiter::summarise(const entry& e) const {
  const auto span_ns = e.last - e.window_start;
  auto span = std::chrono::ceil<std::chrono::seconds>(span_ns);
  span = std::max(span, std::chrono::seconds(1));
  summary s;
  s.level = e.level;
  s.repeated = e.held;
  s.span = span;
  s.text = e.last_text + " (repeated " + std::to_string(e.held) + (e.held == 1 ? " time" : " times") + " in " +
           std::to_string(span.count()) + " s)";
  return s;
}

repeat_limiter::verdict repeat_limiter::offer(std::string_view text, int level, clock::time_point now) {
  verdict v;
  auto kind = kind_of(text);
  auto it = kinds_.find(kind);
  if (it != kinds_.end() && now - it->second.window_start < window_) {
    if (it->second.written < burst_ && it->second.held == 0) {
      ++it->second.written;
      v.write = true;
      return v;
    }
    ++it->second.held;
    it->second.last = now;
    it->second.last_text = std::string(text);
    return v; // held back
  }
  if (it != kinds_.end()) {
    if (it->second.held > 0)
      v.held = summarise(it->second);
    it->second = entry{now, now, 1, 0, std::string(text), level};
  } else {
    if (kinds_.size() >= max_kinds_) {
      // Forget the kind whose window started first; its held repeats are not lost.
      auto oldest = std::min_element(kinds_.begin(), kinds_.end(), [](const auto& a, const auto& b) {
        return a.second.window_start < b.second.window_start;
      });
      if (oldest->second.held > 0)
        evicted_.push_back(summarise(oldest->second));
      kinds_.erase(oldest);
    }
    kinds_.emplace(std::move(kind), entry{now, now, 1, 0, std::string(text), level});
  }
  v.write = true;
  return v;
}

std::vector<repeat_limiter::summary> repeat_limiter::expire(clock::time_point now) {
  std::vector<summary> out = std::move(evicted_);
  evicted_.clear();
  for (auto it = kinds_.begin(); it != kinds_.end();) {
    if (now - it->second.window_start >= window_) {
      if (it->second.held > 0)
        out.push_back(summarise(it->second));
      it = kinds_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

} // namespace mi::util
