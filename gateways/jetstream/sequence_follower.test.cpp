#include "gateways/jetstream/sequence_follower.hpp"

#include <doctest/doctest.h>

using mi::gw::sequence_follower;

TEST_CASE("a follower started on new messages takes the first sequence as the start") {
  sequence_follower f;
  auto s = f.arrive(41);
  CHECK(s.missing_count == 0);
  CHECK_FALSE(s.duplicate);
  CHECK(f.next() == 42);
  CHECK(f.arrive(42).missing_count == 0);
  CHECK(f.next() == 43);
}

TEST_CASE("a follower reports the sequences skipped before a message, once") {
  sequence_follower f(10);
  CHECK(f.arrive(10).missing_count == 0);
  auto s = f.arrive(17); // 11..16 skipped
  CHECK(s.missing_from == 11);
  CHECK(s.missing_count == 6);
  CHECK_FALSE(s.duplicate);
  CHECK(f.arrive(18).missing_count == 0);
}

TEST_CASE("a follower started at a sequence reports a gap before the first message") {
  sequence_follower f(5);
  auto s = f.arrive(8);
  CHECK(s.missing_from == 5);
  CHECK(s.missing_count == 3);
}

TEST_CASE("a follower marks a sequence seen before as a duplicate and does not move back") {
  sequence_follower f;
  f.arrive(3);
  f.arrive(4);
  CHECK(f.arrive(4).duplicate);
  CHECK(f.arrive(2).duplicate);
  CHECK(f.next() == 5);
  auto s = f.arrive(5);
  CHECK_FALSE(s.duplicate);
  CHECK(s.missing_count == 0);
}

TEST_CASE("a message without a sequence is passed through unchecked") {
  sequence_follower f(7);
  auto s = f.arrive(0);
  CHECK(s.missing_count == 0);
  CHECK_FALSE(s.duplicate);
  CHECK(f.next() == 7);
}
