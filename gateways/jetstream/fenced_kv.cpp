#include "gateways/jetstream/fenced_kv.hpp"

#include <spdlog/spdlog.h>

namespace mi::gw {
namespace {

// A key that changes under every attempt has another writer that is not finishing: give up with an error (the
// caller's retry policy, or its owner's fence, decides what then).
constexpr int max_attempts = 10;

} // namespace

std::uint64_t fenced_kv::revision(const std::string& key) const {
  auto it = revisions_.find(key);
  return it == revisions_.end() ? 0 : it->second;
}

mi::result<std::optional<std::string>> fenced_kv::read(const std::string& key) {
  auto e = js_->kv_get_latest(bucket_, key);
  if (!e)
    return e.err();
  if (!*e) {
    revisions_.erase(key);
    return std::optional<std::string>{};
  }
  revisions_[key] = (*e)->revision;
  return std::optional<std::string>{std::move((*e)->value)};
}

mi::result<std::optional<std::string>> fenced_kv::take_over(const std::string& key) {
  for (int attempt = 0; attempt < max_attempts; ++attempt) {
    auto e = js_->kv_get_latest(bucket_, key);
    if (!e)
      return e.err();
    if (!*e) {
      revisions_.erase(key); // absent: the first write creates it (refused if a late writer created it meanwhile)
      return std::optional<std::string>{};
    }
    auto r = js_->kv_swap(bucket_, key, (*e)->value, (*e)->revision);
    if (!r)
      return r.err();
    if (*r) {
      revisions_[key] = **r;
      return std::optional<std::string>{std::move((*e)->value)};
    }
    // Written between the read and the swap: the previous owner's last write landed; read it back.
  }
  return mi::error{"taking over " + bucket_ + "/" + key + ": the key changed " + std::to_string(max_attempts) +
                     " times in a row",
                   mi::errc::unavailable};
}

mi::result<bool> fenced_kv::write(const std::string& key, std::string_view value, const std::atomic<bool>* lost) {
  for (int attempt = 0; attempt < max_attempts; ++attempt) {
    if (lost != nullptr && lost->load())
      return false;
    auto r = js_->kv_swap(bucket_, key, value, revision(key));
    if (!r)
      return r.err();
    if (*r) {
      revisions_[key] = **r;
      return true;
    }
    if (lost != nullptr && lost->load())
      return false; // refused because the next owner took the key over
    auto e = js_->kv_get_latest(bucket_, key);
    if (!e)
      return e.err();
    if (*e && (*e)->value == value) { // our own write whose answer was lost (or the same state written late)
      revisions_[key] = (*e)->revision;
      return true;
    }
    auto [at, added] = revisions_.try_emplace(key, 0);
    at->second = *e ? (*e)->revision : 0;
    if (added) // this object knew nothing of the key (absent at take-over, or forgotten): adopted, not overwritten
      continue;
    if (overwritten_++ % 100 == 0)
      spdlog::warn("KV {}/{}: written by another owner since this one last wrote it (a previous owner finishing "
                   "late); still owning it, writing it again ({} so far)",
                   bucket_, key, overwritten_);
  }
  return mi::error{"writing " + bucket_ + "/" + key + ": the key changed " + std::to_string(max_attempts) +
                     " times in a row",
                   mi::errc::unavailable};
}

} // namespace mi::gw
