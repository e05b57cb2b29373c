#include "gateways/http/key_crypto.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "gateways/http/auth.hpp"

using namespace mi::gw::auth;

namespace {

std::string unhex(std::string_view h) { return *hex_decode(h); }

const std::string key_hex = "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308";
const std::string id = "mik_0123456789abcdef01234567";

/// A file in a fresh temporary directory, removed with it.
struct temp_file {
  std::string dir;
  std::string path;
  explicit temp_file(const std::string& text, mode_t mode) {
    char tmpl[] = "/tmp/mi-key-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    path = dir + "/master.key";
    std::ofstream(path) << text;
    REQUIRE(::chmod(path.c_str(), mode) == 0);
  }
  ~temp_file() {
    ::unlink(path.c_str());
    ::rmdir(dir.c_str());
  }
};

} // namespace

TEST_CASE("AES-256-GCM matches the published test vector (GCM spec test case 16)") {
  auto mk = parse_master_key(key_hex);
  REQUIRE(mk);
  const auto iv = unhex("cafebabefacedbaddecaf888");
  const auto aad = unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
  const auto pt = unhex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b5"
                        "25b16aedf5aa0de657ba637b39");
  auto sealed = aes_256_gcm_seal(mk->bytes, iv, aad, pt);
  REQUIRE(sealed);
  CHECK(hex_encode(*sealed) == "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b"
                               "1056828838c5f61e6393ba7a0abcc9f66276fc6ece0f4e1768cddf8853bb2d551b");
  auto opened = aes_256_gcm_open(mk->bytes, iv, aad, *sealed);
  REQUIRE(opened);
  CHECK(*opened == pt);
  auto tampered = *sealed;
  tampered[3] ^= 1;
  CHECK_FALSE(aes_256_gcm_open(mk->bytes, iv, aad, tampered));
  CHECK_FALSE(aes_256_gcm_open(mk->bytes, iv, aad.substr(1), *sealed));
}

TEST_CASE("a sealed signing key opens only with its master key and its key id") {
  auto mk = parse_master_key(key_hex);
  REQUIRE(mk);
  const auto sk = signing_key(id, "secret");
  auto sealed = seal_signing_key(*mk, id, sk);
  REQUIRE(sealed);
  CHECK(sealed->rfind("v1:" + mk->fingerprint + ":", 0) == 0);
  CHECK(sealed->size() == 3 + 8 + 1 + 24 + 1 + 160);
  CHECK(sealed->find(sk) == std::string::npos);
  auto opened = open_signing_key(*mk, id, *sealed);
  REQUIRE(opened);
  CHECK(*opened == sk);

  // A fresh nonce each time: sealing twice gives different text.
  CHECK(*seal_signing_key(*mk, id, sk) != *sealed);

  // Moved onto another key id (the associated data): refused.
  auto moved = open_signing_key(*mk, "mik_ffffffffffffffffffffffff", *sealed);
  REQUIRE_FALSE(moved);
  CHECK(moved.err().message.find("authentication failed") != std::string::npos);

  // Another master key: named by its fingerprint.
  auto other = parse_master_key(std::string(64, '1'));
  REQUIRE(other);
  CHECK(other->fingerprint != mk->fingerprint);
  auto wrong = open_signing_key(*other, id, *sealed);
  REQUIRE_FALSE(wrong);
  CHECK(wrong.err().message.find("sealed with master key " + mk->fingerprint) != std::string::npos);

  // A flipped ciphertext digit: refused.
  auto flipped = *sealed;
  flipped[40] = flipped[40] == '0' ? '1' : '0';
  CHECK_FALSE(open_signing_key(*mk, id, flipped));
  CHECK_FALSE(open_signing_key(*mk, id, "v1:garbage"));
  CHECK_FALSE(open_signing_key(*mk, id, sk)); // a clear signing key is not sealed text
}

TEST_CASE("master key text: 64 hex digits, errors never echo the text") {
  CHECK(parse_master_key("  " + key_hex + "\n"));
  auto short_key = parse_master_key("abcd");
  REQUIRE_FALSE(short_key);
  CHECK(short_key.err().message.find("64 hex digits") != std::string::npos);
  const std::string not_hex = std::string(63, 'a') + "z";
  auto bad = parse_master_key(not_hex);
  REQUIRE_FALSE(bad);
  CHECK(bad.err().message.find(not_hex) == std::string::npos);
}

TEST_CASE("load_master_key: file with mode 600, environment, neither, both, too open") {
  temp_file good{key_hex + "\n", 0600};
  auto from_file = load_master_key(good.path, nullptr);
  REQUIRE(from_file);
  REQUIRE(from_file->has_value());
  CHECK((*from_file)->fingerprint == parse_master_key(key_hex)->fingerprint);

  auto from_env = load_master_key("", key_hex.c_str());
  REQUIRE(from_env);
  CHECK(from_env->has_value());

  auto none = load_master_key("", nullptr);
  REQUIRE(none);
  CHECK_FALSE(none->has_value());
  CHECK_FALSE(load_master_key("", "")->has_value());

  auto both = load_master_key(good.path, key_hex.c_str());
  REQUIRE_FALSE(both);
  CHECK(both.err().message.find("both") != std::string::npos);

  temp_file open_file{key_hex, 0644};
  auto too_open = load_master_key(open_file.path, nullptr);
  REQUIRE_FALSE(too_open);
  CHECK(too_open.err().message.find("chmod 600") != std::string::npos);
  CHECK(too_open.err().message.find(key_hex) == std::string::npos);

  auto missing = load_master_key("/nonexistent/master.key", nullptr);
  REQUIRE_FALSE(missing);
  CHECK(missing.err().message.find("/nonexistent/master.key") != std::string::npos);

  temp_file junk{"not a key", 0600};
  CHECK_FALSE(load_master_key(junk.path, nullptr));
}
