#include "gateways/http/key_crypto.hpp"

#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "gateways/http/auth.hpp"
#include "messages/util/text.hpp"

namespace mi::gw::auth {
namespace {

struct ctx_deleter {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using cipher_ctx = std::unique_ptr<EVP_CIPHER_CTX, ctx_deleter>;

constexpr std::size_t iv_size = 12;
constexpr std::size_t tag_size = 16;

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

using mi::util::trim;

} // namespace

mi::result<master_key> parse_master_key(std::string_view text) {
  text = trim(text);
  auto raw = hex_decode(text);
  if (text.size() != 64 || !raw)
    return mi::error{"the master key must be 64 hex digits (32 bytes, e.g. `openssl rand -hex 32`), got " +
                     std::to_string(text.size()) + " characters"};
  master_key mk;
  std::memcpy(mk.bytes.data(), raw->data(), mk.bytes.size());
  mk.fingerprint = sha256_hex("mi-api-master-key:" + *raw).substr(0, 8);
  return mk;
}

mi::result<std::optional<master_key>> load_master_key(const std::string& file, const char* env_value) {
  const bool from_env = env_value != nullptr && *env_value != '\0';
  if (!file.empty() && from_env)
    return mi::error{"both api.master_key_file and MI_API_MASTER_KEY are set: keep one"};
  if (from_env) {
    auto mk = parse_master_key(env_value);
    if (!mk)
      return mi::error{"MI_API_MASTER_KEY: " + mk.err().message};
    return std::optional<master_key>{std::move(*mk)};
  }
  if (file.empty())
    return std::optional<master_key>{};
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0)
    return mi::error{"api.master_key_file: cannot read '" + file + "': " + std::strerror(errno)};
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return mi::error{"api.master_key_file: '" + file + "' is readable by group or others (mode " + mode +
                     "): chmod 600 it"};
  }
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in.good() && !in.eof())
    return mi::error{"api.master_key_file: cannot read '" + file + "': " + std::strerror(errno)};
  auto mk = parse_master_key(text.str());
  if (!mk)
    return mi::error{"api.master_key_file: '" + file + "': " + mk.err().message};
  return std::optional<master_key>{std::move(*mk)};
}

mi::result<std::string> aes_256_gcm_seal(const std::array<unsigned char, 32>& key, std::string_view iv,
                                         std::string_view aad, std::string_view plaintext) {
  if (iv.size() != iv_size)
    return mi::error{"AES-GCM: the nonce must be 12 bytes"};
  cipher_ctx ctx{EVP_CIPHER_CTX_new()};
  std::string out(plaintext.size() + tag_size, '\0');
  auto* dst = reinterpret_cast<unsigned char*>(out.data());
  int len = 0;
  int total = 0;
  bool ok = ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, iv_size, nullptr) == 1 &&
            EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key.data(), bytes(iv)) == 1 &&
            EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes(aad), static_cast<int>(aad.size())) == 1 &&
            EVP_EncryptUpdate(ctx.get(), dst, &len, bytes(plaintext), static_cast<int>(plaintext.size())) == 1;
  total = len;
  ok = ok && EVP_EncryptFinal_ex(ctx.get(), dst + total, &len) == 1;
  total += len;
  ok = ok && static_cast<std::size_t>(total) == plaintext.size() &&
       EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, tag_size, dst + total) == 1;
  if (!ok)
    return mi::error{"AES-GCM encryption failed (OpenSSL)"};
  return out;
}

mi::result<std::string> aes_256_gcm_open(const std::array<unsigned char, 32>& key, std::string_view iv,
                                         std::string_view aad, std::string_view sealed) {
  if (iv.size() != iv_size)
    return mi::error{"AES-GCM: the nonce must be 12 bytes"};
  if (sealed.size() < tag_size)
    return mi::error{"AES-GCM: sealed value shorter than its tag"};
  const std::string_view ct = sealed.substr(0, sealed.size() - tag_size);
  std::string tag(sealed.substr(ct.size()));
  cipher_ctx ctx{EVP_CIPHER_CTX_new()};
  std::string out(ct.size(), '\0');
  auto* dst = reinterpret_cast<unsigned char*>(out.data());
  int len = 0;
  bool ok = ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, iv_size, nullptr) == 1 &&
            EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key.data(), bytes(iv)) == 1 &&
            EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes(aad), static_cast<int>(aad.size())) == 1 &&
            EVP_DecryptUpdate(ctx.get(), dst, &len, bytes(ct), static_cast<int>(ct.size())) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, tag_size, tag.data()) == 1;
  const int total = len;
  ok = ok && EVP_DecryptFinal_ex(ctx.get(), dst + total, &len) == 1;
  if (!ok)
    return mi::error{"AES-GCM: authentication failed (wrong key, or the value was altered)"};
  return out;
}

mi::result<std::string> seal_signing_key(const master_key& mk, std::string_view key_id, std::string_view signing_key) {
  std::string iv(iv_size, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(iv.data()), static_cast<int>(iv.size())) != 1)
    return mi::error{"OpenSSL RAND_bytes failed"};
  auto sealed = aes_256_gcm_seal(mk.bytes, iv, key_id, signing_key);
  if (!sealed)
    return sealed.err();
  return "v1:" + mk.fingerprint + ":" + hex_encode(iv) + ":" + hex_encode(*sealed);
}

std::string sealed_fingerprint(std::string_view sealed) {
  if (sealed.size() < 12 || sealed.substr(0, 3) != "v1:" || sealed[11] != ':')
    return {};
  return std::string(sealed.substr(3, 8));
}

mi::result<std::string> open_signing_key(const master_key& mk, std::string_view key_id, std::string_view sealed) {
  const std::string fp = sealed_fingerprint(sealed);
  if (fp.empty())
    return mi::error{"sealed signing key of " + std::string(key_id) + " is not in the v1 format"};
  if (fp != mk.fingerprint)
    return mi::error{"signing key of " + std::string(key_id) + " was sealed with master key " + fp +
                     ", this process has master key " + mk.fingerprint};
  const std::string_view rest = sealed.substr(12);
  const auto colon = rest.find(':');
  if (colon == std::string_view::npos)
    return mi::error{"sealed signing key of " + std::string(key_id) + " is not in the v1 format"};
  auto iv = hex_decode(rest.substr(0, colon));
  auto body = hex_decode(rest.substr(colon + 1));
  if (!iv || !body || iv->size() != iv_size)
    return mi::error{"sealed signing key of " + std::string(key_id) + " is not in the v1 format"};
  auto plain = aes_256_gcm_open(mk.bytes, *iv, key_id, *body);
  if (!plain)
    return mi::error{"sealed signing key of " + std::string(key_id) + ": " + plain.err().message};
  return *plain;
}

} // namespace mi::gw::auth
