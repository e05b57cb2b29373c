#include "gateways/metrics/health.hpp"

#include <algorithm>

#include "messages/util/clock.hpp"
#include "messages/util/json_writer.hpp"

namespace mi::gw {

health::health(change_listener on_change) : on_change_(std::move(on_change)) {}

void health::declare(std::string_view name) {
  std::lock_guard lock(mu_);
  if (std::none_of(checks_.begin(), checks_.end(), [&](const health_check& c) { return c.name == name; }))
    checks_.push_back({std::string(name), false, "not checked yet", mi::util::now_ms()});
}

void health::set(std::string_view name, bool ok, std::string_view detail) {
  health_check changed;
  bool notify = false;
  {
    std::lock_guard lock(mu_);
    auto it = std::find_if(checks_.begin(), checks_.end(), [&](const health_check& c) { return c.name == name; });
    if (it == checks_.end()) {
      checks_.push_back({std::string(name), !ok, "not checked yet", mi::util::now_ms()});
      it = checks_.end() - 1;
    }
    if (it->ok != ok) {
      it->ok = ok;
      it->since_ms = mi::util::now_ms();
      notify = true;
    }
    it->detail = std::string(detail);
    changed = *it;
  }
  if (notify && on_change_)
    on_change_(changed);
}

bool health::ready() const {
  std::lock_guard lock(mu_);
  return !checks_.empty() && std::all_of(checks_.begin(), checks_.end(), [](const health_check& c) { return c.ok; });
}

std::vector<health_check> health::checks() const {
  std::lock_guard lock(mu_);
  return checks_;
}

std::string health::readiness_json() const {
  const auto cs = checks();
  const bool ok = !cs.empty() && std::all_of(cs.begin(), cs.end(), [](const health_check& c) { return c.ok; });
  std::string out = R"({"status":")";
  out += ok ? "ready" : "not ready";
  out += R"(","checks":[)";
  for (std::size_t i = 0; i < cs.size(); ++i) {
    if (i != 0)
      out += ',';
    out += R"({"name":)";
    mi::util::append_json_string(out, cs[i].name);
    out += R"(,"ok":)";
    out += cs[i].ok ? "true" : "false";
    out += R"(,"detail":)";
    mi::util::append_json_string(out, cs[i].detail);
    out += R"(,"since_ms":)";
    out += std::to_string(cs[i].since_ms);
    out += '}';
  }
  out += "]}\n";
  return out;
}

health_reply answer_health(const health& h, std::string_view path) {
  if (path == "/healthz")
    return {200, "{\"status\":\"alive\"}\n"};
  if (path == "/readyz")
    return {h.ready() ? 200 : 503, h.readiness_json()};
  return {};
}

} // namespace mi::gw
