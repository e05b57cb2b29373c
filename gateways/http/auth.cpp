#include "gateways/http/auth.hpp"
#include "messages/util/text.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <tuple>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

namespace mi::gw::auth {
namespace {

std::string to_hex(const unsigned char* p, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = digits[p[i] >> 4];
    out[2 * i + 1] = digits[p[i] & 0xf];
  }
  return out;
}

using mi::util::hex_value;

mi::result<std::string> percent_decode(std::string_view s, std::string_view what) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size())
      return mi::error{"parameter '" + std::string(what) + "': truncated percent-encoding"};
    int a = hex_value(s[i + 1]);
    int b = hex_value(s[i + 2]);
    if (a < 0 || b < 0)
      return mi::error{"parameter '" + std::string(what) + "': bad percent-encoding"};
    out += static_cast<char>(a * 16 + b);
    i += 2;
  }
  return out;
}

bool valid_nonce(std::string_view n) {
  if (n.empty() || n.size() > 64)
    return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

} // namespace

std::string sha256_hex(std::string_view data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  return to_hex(md, sizeof md);
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), md, &len);
  return to_hex(md, len);
}

mi::result<std::string> random_hex(std::size_t n) {
  std::vector<unsigned char> buf(n);
  if (RAND_bytes(buf.data(), static_cast<int>(n)) != 1)
    return mi::error{"OpenSSL RAND_bytes failed"};
  return to_hex(buf.data(), n);
}

bool equal_constant_time(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

std::string hex_encode(std::string_view bytes) {
  return to_hex(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

mi::result<std::string> hex_decode(std::string_view hex) {
  if (hex.size() % 2 != 0)
    return mi::error{"hex text of odd length"};
  std::string out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    int a = hex_value(hex[i]);
    int b = hex_value(hex[i + 1]);
    if (a < 0 || b < 0)
      return mi::error{"not a hex digit"};
    out += static_cast<char>(a * 16 + b);
  }
  return out;
}

bool valid_key_id(std::string_view id) {
  if (id.size() != 28 || id.substr(0, 4) != "mik_")
    return false;
  return std::all_of(id.begin() + 4, id.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string signing_key(std::string_view key_id, std::string_view secret) {
  std::string text;
  text.reserve(key_id.size() + 1 + secret.size());
  text.append(key_id).append(":").append(secret);
  return sha256_hex(text);
}

mi::result<std::vector<query_param>> parse_query(std::string_view raw) {
  std::vector<query_param> out;
  while (!raw.empty()) {
    auto amp = raw.find('&');
    std::string_view part = raw.substr(0, amp);
    raw = amp == std::string_view::npos ? std::string_view{} : raw.substr(amp + 1);
    if (part.empty())
      continue;
    auto eq = part.find('=');
    std::string_view name = part.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1);
    auto n = percent_decode(name, name);
    if (!n)
      return n.err();
    auto v = percent_decode(value, *n);
    if (!v)
      return v.err();
    out.push_back({std::move(*n), std::move(*v)});
  }
  return out;
}

std::string percent_encode(std::string_view s) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 0xf];
    }
  }
  return out;
}

std::string canonical_query(std::vector<query_param> params, const std::vector<std::string_view>& exclude) {
  params.erase(std::remove_if(params.begin(), params.end(),
                              [&](const query_param& p) {
                                return std::find(exclude.begin(), exclude.end(), p.name) != exclude.end();
                              }),
               params.end());
  std::sort(params.begin(), params.end(), [](const query_param& a, const query_param& b) {
    return std::tie(a.name, a.value) < std::tie(b.name, b.value);
  });
  std::string out;
  for (const auto& p : params) {
    if (!out.empty())
      out += '&';
    out += percent_encode(p.name);
    out += '=';
    out += percent_encode(p.value);
  }
  return out;
}

bool has_push_token(std::string_view target) {
  auto q = target.find('?');
  if (q == std::string_view::npos)
    return false;
  auto params = parse_query(target.substr(q + 1));
  if (!params)
    return true; // malformed: let the full check refuse it
  return std::any_of(params->begin(), params->end(), [](const query_param& p) {
    return p.name == "key" || p.name == "ts" || p.name == "nonce" || p.name == "sig";
  });
}

std::string string_to_sign(std::string_view timestamp, std::string_view method, std::string_view path,
                           std::string_view canonical_query) {
  std::string s;
  s.reserve(timestamp.size() + method.size() + path.size() + canonical_query.size() + 3);
  s.append(timestamp).append("\n").append(method).append("\n").append(path).append("\n").append(canonical_query);
  return s;
}

std::string_view reason_label(reject r) {
  switch (r) {
  case reject::none:
    return "none";
  case reject::missing_credentials:
    return "missing_credentials";
  case reject::malformed:
    return "malformed";
  case reject::unknown_key:
    return "unknown_key";
  case reject::revoked_key:
    return "revoked_key";
  case reject::expired_timestamp:
    return "expired_timestamp";
  case reject::bad_signature:
    return "bad_signature";
  case reject::replayed_nonce:
    return "replayed_nonce";
  case reject::quota_exceeded:
    return "quota_exceeded";
  case reject::nonce_store_unavailable:
    return "nonce_store_unavailable";
  }
  return "unknown";
}

std::int64_t take_token(double& tokens, std::int64_t& last_ms, std::int64_t capacity, std::int64_t now_ms) {
  const double rate_per_ms = static_cast<double>(capacity) / 60'000.0;
  if (now_ms > last_ms) {
    tokens = std::min(static_cast<double>(capacity), tokens + static_cast<double>(now_ms - last_ms) * rate_per_ms);
    last_ms = now_ms;
  }
  if (tokens >= 1.0) {
    tokens -= 1.0;
    return 0;
  }
  const double wait_ms = (1.0 - tokens) / rate_per_ms;
  return std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(wait_ms / 1000.0)));
}

void memory_nonce_store::prune(key_nonces& kn, std::int64_t now_ms) {
  while (!kn.order.empty() && kn.order.front().first <= now_ms) {
    auto it = kn.expiry.find(kn.order.front().second);
    if (it != kn.expiry.end() && it->second == kn.order.front().first)
      kn.expiry.erase(it);
    kn.order.pop_front();
  }
}

mi::result<nonce_outcome> memory_nonce_store::remember(const std::string& key_id, const std::string& nonce,
                                                       std::int64_t forget_at_ms, std::int64_t now_ms) {
  std::lock_guard lock{mu_};
  auto& kn = nonces_[key_id];
  prune(kn, now_ms);
  if (kn.expiry.count(nonce))
    return nonce_outcome::replayed;
  if (kn.expiry.size() >= max_per_key_)
    return nonce_outcome::full;
  kn.expiry[nonce] = forget_at_ms;
  // The deque is ordered by insertion; expiries can be out of order by at most 2 x window, so a
  // late-expiring front only delays forgetting, never forgets early.
  kn.order.emplace_back(forget_at_ms, nonce);
  return nonce_outcome::fresh;
}

std::size_t memory_nonce_store::size() const {
  std::lock_guard lock{mu_};
  std::size_t n = 0;
  for (const auto& [k, kn] : nonces_)
    n += kn.expiry.size();
  return n;
}

authenticator::authenticator(auth_options o, std::shared_ptr<nonce_store> nonces)
    : opts_(o), nonces_(nonces ? std::move(nonces) : std::make_shared<memory_nonce_store>()) {}

decision authenticator::precheck(const credentials& c, std::int64_t now_ms) const {
  auto refuse = [](reject r, std::string msg) { return decision{r, std::move(msg), 0}; };
  if (c.key_id.empty())
    return refuse(reject::missing_credentials, "missing API key (X-MI-APIKEY)");
  if (c.timestamp.empty())
    return refuse(reject::missing_credentials, "missing timestamp (X-MI-TIMESTAMP)");
  if (c.nonce.empty())
    return refuse(reject::missing_credentials, "missing nonce (X-MI-NONCE)");
  if (c.signature.empty())
    return refuse(reject::missing_credentials, "missing signature (X-MI-SIGNATURE)");
  if (!valid_key_id(c.key_id))
    return refuse(reject::malformed, "API key id must be mik_ followed by 24 hex digits");
  std::int64_t ts = 0;
  auto [end, ec] = std::from_chars(c.timestamp.data(), c.timestamp.data() + c.timestamp.size(), ts);
  if (ec != std::errc{} || end != c.timestamp.data() + c.timestamp.size())
    return refuse(reject::malformed,
                  "timestamp '" + c.timestamp.substr(0, 40) + "' is not an integer (ms since the epoch)");
  if (!valid_nonce(c.nonce))
    return refuse(reject::malformed, "nonce must be 1-64 characters of A-Z a-z 0-9 - _");
  if (c.signature.size() != 64 || !hex_decode(c.signature))
    return refuse(reject::malformed, "signature must be 64 hex digits (HMAC-SHA256)");
  const std::int64_t window = opts_.window.count();
  if (ts < now_ms - window || ts > now_ms + window)
    return refuse(reject::expired_timestamp, "timestamp " + c.timestamp + " is outside the accepted window of +-" +
                                               std::to_string(window) + " ms (server time " + std::to_string(now_ms) +
                                               ")");
  return {};
}

decision authenticator::check(const credentials& c, const std::optional<key_record>& key, std::string_view method,
                              std::string_view path, std::string_view canonical_query, std::int64_t now_ms) {
  auto refuse = [](reject r, std::string msg) { return decision{r, std::move(msg), 0}; };
  if (auto pre = precheck(c, now_ms); !pre.ok())
    return pre;
  if (!key)
    return refuse(reject::unknown_key, "unknown API key");
  if (key->revoked)
    return refuse(reject::revoked_key, "API key revoked");
  const std::string expected =
    hmac_sha256_hex(key->signing_key, string_to_sign(c.timestamp, method, path, canonical_query));
  std::string given = c.signature;
  std::transform(given.begin(), given.end(), given.begin(),
                 [](char ch) { return static_cast<char>(std::tolower(static_cast<unsigned char>(ch))); });
  if (!equal_constant_time(expected, given))
    return refuse(reject::bad_signature, "signature does not match");

  const std::int64_t capacity = key->quota_per_minute > 0 ? key->quota_per_minute : opts_.default_quota_per_minute;
  {
    std::lock_guard lock{mu_};
    auto& b = buckets_[key->key_id];
    if (!b.initialized)
      b = bucket{static_cast<double>(capacity), now_ms, true};
    if (auto wait = take_token(b.tokens, b.last_ms, capacity, now_ms); wait > 0)
      return decision{reject::quota_exceeded,
                      "quota of " + std::to_string(capacity) + " requests per minute exceeded; retry in " +
                        std::to_string(wait) + " s",
                      wait};
  }
  auto refund = [&] {
    std::lock_guard lock{mu_};
    auto& b = buckets_[key->key_id];
    b.tokens = std::min(static_cast<double>(capacity), b.tokens + 1.0);
  };
  // Remember the nonce until its timestamp can no longer pass the window check. The timestamp
  // parsed in precheck.
  std::int64_t ts = 0;
  std::from_chars(c.timestamp.data(), c.timestamp.data() + c.timestamp.size(), ts);
  const std::int64_t forget_at = std::max(ts, now_ms) + opts_.window.count() + 1;
  auto stored = nonces_->remember(key->key_id, c.nonce, forget_at, now_ms);
  if (!stored) {
    refund();
    return refuse(reject::nonce_store_unavailable, "nonce store unavailable, retry later");
  }
  switch (*stored) {
  case nonce_outcome::fresh:
    return {};
  case nonce_outcome::replayed:
    refund();
    return refuse(reject::replayed_nonce, "nonce already used (replayed request)");
  case nonce_outcome::full:
    refund();
    return decision{reject::quota_exceeded, "too many requests in the timestamp window", 1};
  }
  return {};
}

} // namespace mi::gw::auth
