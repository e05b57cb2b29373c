#include "actors/inspection.hpp"

#include <algorithm>
#include <chrono>
#include <functional>

#include "caf/behavior.hpp"
#include "caf/detail/behavior_impl.hpp"
#include "caf/local_actor.hpp"
#include "caf/send.hpp"
#include "messages/util/clock.hpp"
#include "messages/util/json_writer.hpp"

namespace mi::actors {

inspection& inspection::process() {
  static inspection registry;
  return registry;
}

inspection::record& inspection::upsert(std::uint64_t id) {
  auto [it, fresh] = actors_.try_emplace(id);
  if (fresh) {
    it->second.info.id = id;
    it->second.info.kind = "actor";
    it->second.info.state = "running";
    it->second.info.started_ms = mi::util::now_ms();
  }
  return it->second;
}

std::shared_ptr<inspection::entry> inspection::enter(std::uint64_t id, std::string_view kind, std::string_view name) {
  std::lock_guard lock(mu_);
  auto& r = upsert(id);
  r.info.kind = std::string(kind);
  if (r.info.name.empty()) // a supervisor's name for its child wins
    r.info.name = std::string(name);
  return r.counters;
}

void inspection::adopt(std::uint64_t id, std::uint64_t parent, std::string_view name) {
  std::lock_guard lock(mu_);
  auto& r = upsert(id);
  r.info.parent = parent;
  r.info.name = std::string(name);
}

void inspection::leave(std::uint64_t id) {
  std::lock_guard lock(mu_);
  actors_.erase(id);
}

void inspection::set_state(std::uint64_t id, std::string_view state) {
  std::lock_guard lock(mu_);
  if (auto it = actors_.find(id); it != actors_.end())
    it->second.info.state = std::string(state);
}

void inspection::set_error(std::uint64_t id, std::string_view error) {
  std::lock_guard lock(mu_);
  if (auto it = actors_.find(id); it != actors_.end()) {
    it->second.info.last_error = std::string(error);
    it->second.info.last_error_ms = mi::util::now_ms();
  }
}

void inspection::restarted(std::uint64_t id, std::string_view child, std::string_view reason) {
  std::lock_guard lock(mu_);
  auto it = actors_.find(id);
  if (it == actors_.end())
    return;
  auto& rs = it->second.info.restarts;
  rs.push_back({std::string(child), mi::util::now_ms(), std::string(reason)});
  if (rs.size() > max_restarts_kept)
    rs.erase(rs.begin(), rs.begin() + static_cast<std::ptrdiff_t>(rs.size() - max_restarts_kept));
  it->second.info.last_error = std::string(child) + ": " + std::string(reason);
  it->second.info.last_error_ms = rs.back().at_ms;
}

void inspection::set_stopper(std::uint64_t id, std::function<void()> stop) {
  std::lock_guard lock(mu_);
  if (auto it = actors_.find(id); it != actors_.end())
    it->second.stop = std::move(stop);
}

bool inspection::stop(std::uint64_t id) const {
  std::function<void()> stop;
  {
    std::lock_guard lock(mu_);
    auto it = actors_.find(id);
    if (it == actors_.end() || !it->second.stop)
      return false;
    stop = it->second.stop;
  }
  stop(); // outside the lock: the actor's exit leaves the registry
  return true;
}

std::vector<actor_info> inspection::snapshot() const {
  std::lock_guard lock(mu_);
  std::vector<actor_info> out;
  out.reserve(actors_.size());
  for (const auto& [id, r] : actors_) {
    out.push_back(r.info);
    out.back().handled = r.counters->handled_.load(std::memory_order_relaxed);
    out.back().busy_ns = r.counters->busy_ns_.load(std::memory_order_relaxed);
    out.back().last_ms = r.counters->last_ms_.load(std::memory_order_relaxed);
  }
  return out;
}

std::string inspection::tree_json() const {
  const auto all = snapshot();
  std::map<std::uint64_t, std::vector<const actor_info*>> children;
  std::vector<const actor_info*> roots;
  for (const auto& a : all) {
    const bool parent_known =
      a.parent != 0 && std::any_of(all.begin(), all.end(), [&](const actor_info& p) { return p.id == a.parent; });
    (parent_known ? children[a.parent] : roots).push_back(&a);
  }
  std::string out;
  std::function<void(const actor_info&)> write = [&](const actor_info& a) {
    out += R"({"id":)" + std::to_string(a.id) + R"(,"kind":)";
    mi::util::append_json_string(out, a.kind);
    out += R"(,"name":)";
    mi::util::append_json_string(out, a.name);
    out += R"(,"parent":)" + std::to_string(a.parent) + R"(,"state":)";
    mi::util::append_json_string(out, a.state);
    out += R"(,"handled":)" + std::to_string(a.handled) + R"(,"busy_ms":)" + std::to_string(a.busy_ns / 1'000'000) +
           R"(,"started_ms":)" + std::to_string(a.started_ms) + R"(,"last_ms":)" + std::to_string(a.last_ms) +
           R"(,"last_error":)";
    mi::util::append_json_string(out, a.last_error);
    out += R"(,"last_error_ms":)" + std::to_string(a.last_error_ms) + R"(,"restarts":[)";
    for (std::size_t i = 0; i < a.restarts.size(); ++i) {
      out += i == 0 ? R"({"child":)" : R"(,{"child":)";
      mi::util::append_json_string(out, a.restarts[i].child);
      out += R"(,"at_ms":)" + std::to_string(a.restarts[i].at_ms) + R"(,"reason":)";
      mi::util::append_json_string(out, a.restarts[i].reason);
      out += '}';
    }
    out += R"(],"children":[)";
    if (auto it = children.find(a.id); it != children.end())
      for (std::size_t i = 0; i < it->second.size(); ++i) {
        if (i != 0)
          out += ',';
        write(*it->second[i]);
      }
    out += "]}";
  };
  out += R"({"actors":[)";
  for (std::size_t i = 0; i < roots.size(); ++i) {
    if (i != 0)
      out += ',';
    write(*roots[i]);
  }
  out += "]}\n";
  return out;
}

// -- CAF glue ---------------------------------------------------------------------------------------

namespace {

/// Delegates to the actor's own behavior, counting and timing each message it matches.
class timed_behavior final : public caf::detail::behavior_impl {
public:
  timed_behavior(caf::intrusive_ptr<caf::detail::behavior_impl> inner, std::shared_ptr<inspection::entry> counters)
      : behavior_impl(inner->timeout()), inner_(std::move(inner)), counters_(std::move(counters)) {}

  caf::match_case::result invoke(caf::detail::invoke_result_visitor& f, caf::type_erased_tuple& xs) override {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = inner_->invoke(f, xs);
    if (r == caf::match_case::match)
      counters_->handled(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count(),
        mi::util::now_ms());
    return r;
  }
  caf::match_case::result invoke_empty(caf::detail::invoke_result_visitor& f) override {
    return inner_->invoke_empty(f);
  }
  void handle_timeout() override { inner_->handle_timeout(); }

private:
  caf::intrusive_ptr<caf::detail::behavior_impl> inner_;
  std::shared_ptr<inspection::entry> counters_;
};

} // namespace

caf::behavior inspected(caf::local_actor* self, std::string_view kind, std::string_view name, caf::behavior b) {
  const auto id = self->id();
  auto counters = inspection::process().enter(id, kind, name);
  self->attach_functor([id] { inspection::process().leave(id); });
  inspection::process().set_stopper(id, [addr = self->address()] {
    caf::anon_send_exit(addr, caf::exit_reason::user_shutdown); // an error: the supervisor restarts it
  });
  if (!b)
    return b;
  return caf::behavior(caf::intrusive_ptr<caf::detail::behavior_impl>(
    caf::make_counted<timed_behavior>(b.as_behavior_impl(), std::move(counters))));
}

void inspect_state(const caf::local_actor* self, std::string_view state) {
  inspection::process().set_state(self->id(), state);
}

void inspect_error(const caf::local_actor* self, std::string_view error) {
  inspection::process().set_error(self->id(), error);
}

} // namespace mi::actors
