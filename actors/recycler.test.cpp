#include "actors/recycler.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using mi::actors::recycler;

TEST_CASE("recycler: a vector given back comes out of take() empty, with the room it had") {
  recycler<std::vector<std::string>> r;
  auto v = r.take();
  CHECK(v.capacity() == 0); // nothing given back yet: a new one
  for (int i = 0; i < 100; ++i)
    v.push_back(std::string(40, 'x'));
  const auto room = v.capacity();
  const auto* storage = v.data();
  r.give(std::move(v));
  CHECK(r.kept() == 1);
  auto again = r.take();
  CHECK(again.empty());
  CHECK(again.capacity() == room);
  CHECK(again.data() == storage); // the same allocation: filling it again allocates no vector
  CHECK(r.kept() == 0);
  CHECK(r.take().capacity() == 0);
}

TEST_CASE("recycler: keeps at most max_kept vectors, none bigger than max_capacity, and none without room") {
  recycler<std::vector<int>> r(2, 64);
  for (int i = 0; i < 3; ++i) {
    std::vector<int> v;
    v.reserve(16);
    r.give(std::move(v));
  }
  CHECK(r.kept() == 2);
  recycler<std::vector<int>> small(4, 64);
  std::vector<int> big;
  big.reserve(65);
  small.give(std::move(big)); // a burst's vector is freed, not kept
  small.give(std::vector<int>{});
  CHECK(small.kept() == 0);
}
