#include "gateways/jetstream/pub_ack.hpp"

#include <simdjson.h>

namespace mi::gw {

namespace {

pub_ack malformed(std::string why) {
  pub_ack a;
  a.error = std::move(why);
  return a;
}

pub_ack read_error(simdjson::ondemand::object err) {
  pub_ack a;
  a.what = pub_ack::kind::refused;
  for (auto field : err) {
    std::string_view key;
    if (field.unescaped_key().get(key))
      return malformed("publish ack: unreadable error field");
    auto value = field.value();
    if (key == "code" || key == "err_code") {
      std::int64_t n = 0;
      if (value.get_int64().get(n) || n < 0 || n > 1'000'000)
        return malformed("publish ack: error " + std::string(key) + " is not a small number");
      (key == "code" ? a.code : a.err_code) = static_cast<int>(n);
    } else if (key == "description") {
      std::string_view d;
      if (value.get_string().get(d))
        return malformed("publish ack: error description is not a string");
      a.error.assign(d.substr(0, 512));
    }
  }
  if (a.error.empty())
    a.error = "refused without a description";
  return a;
}

} // namespace

pub_ack parse_pub_ack(std::string_view json) {
  thread_local simdjson::ondemand::parser parser;
  thread_local std::string buf;
  if (json.size() > 4096)
    return malformed("publish ack of " + std::to_string(json.size()) + " bytes");
  buf.assign(json);
  buf.reserve(json.size() + simdjson::SIMDJSON_PADDING);
  simdjson::ondemand::document doc;
  if (parser.iterate(buf.data(), buf.size(), buf.capacity()).get(doc))
    return malformed("publish ack is not JSON");
  simdjson::ondemand::object obj;
  if (doc.get_object().get(obj))
    return malformed("publish ack is not a JSON object");
  pub_ack a;
  a.what = pub_ack::kind::stored;
  bool has_seq = false;
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key))
      return malformed("publish ack: unreadable field");
    auto value = field.value();
    if (key == "error") {
      simdjson::ondemand::object err;
      if (value.get_object().get(err))
        return malformed("publish ack: error is not an object");
      return read_error(err);
    }
    if (key == "stream") {
      std::string_view s;
      if (value.get_string().get(s))
        return malformed("publish ack: stream is not a string");
      a.stream.assign(s);
    } else if (key == "seq") {
      if (value.get_uint64().get(a.seq))
        return malformed("publish ack: seq is not an unsigned number");
      has_seq = true;
    } else if (key == "duplicate") {
      if (value.get_bool().get(a.duplicate))
        return malformed("publish ack: duplicate is not a boolean");
    }
  }
  if (!has_seq || a.seq == 0 || a.stream.empty())
    return malformed("publish ack without stream and sequence");
  return a;
}

} // namespace mi::gw
