#include "messages/util/text.hpp"
#include "messages/util/json_writer.hpp"

#include <doctest/doctest.h>

#include <string>

using mi::util::append_json_string;
using mi::util::escape_controls;
using mi::util::hex_value;
using mi::util::json_string;
using mi::util::trim;

TEST_CASE("trim removes white space, or the given characters, at both ends only") {
  CHECK(trim("  a b \t\r\n") == "a b");
  CHECK(trim("\v\fx\f") == "x");
  CHECK(trim("   ").empty());
  CHECK(trim("").empty());
  CHECK(trim("\fpong\n", mi::util::json_whitespace) == "\fpong"); // JSON's white space has no form feed
  CHECK(trim(" \t5 ", " \t") == "5");
}

TEST_CASE("hex_value reads both cases and refuses the rest") {
  CHECK(hex_value('0') == 0);
  CHECK(hex_value('9') == 9);
  CHECK(hex_value('a') == 10);
  CHECK(hex_value('F') == 15);
  CHECK(hex_value('g') == -1);
  CHECK(hex_value('%') == -1);
}

TEST_CASE("JSON strings: quotes, backslashes and control characters escaped, UTF-8 kept") {
  CHECK(json_string("plain") == R"("plain")");
  CHECK(json_string("a\"b\\c") == R"("a\"b\\c")");
  CHECK(json_string("l1\nl2\r\t") == R"("l1\nl2\r\t")");
  CHECK(json_string(std::string("\x00\x01\x1f", 3)) == R"("\u0000\u0001\u001f")");
  CHECK(json_string("\b\f") == R"("\u0008\u000c")");
  CHECK(json_string("\xc3\xa9\x7f") == "\"\xc3\xa9\x7f\"");
  std::string out = "[";
  append_json_string(out, "x");
  CHECK(out == R"(["x")");
}

TEST_CASE("escape_controls writes control characters as %XX and leaves the rest, UTF-8 included") {
  CHECK(escape_controls("77\r\n88") == "77%0D%0A88");
  CHECK(escape_controls(std::string("a\0b\x1f\x7f", 5)) == "a%00b%1F%7F");
  CHECK(escape_controls("plain %41 text, caf\xc3\xa9") == "plain %41 text, caf\xc3\xa9");
  CHECK(escape_controls("").empty());
  CHECK(mi::util::is_ascii_control('\t'));
  CHECK_FALSE(mi::util::is_ascii_control(' '));
  CHECK_FALSE(mi::util::is_ascii_control('\x80'));
}
