#include "actors/inbox.hpp"

#include <atomic>
#include <chrono>
#include <doctest/doctest.h>
#include <string>
#include <thread>

using text_inbox = mi::actors::inbox<std::string>;

TEST_CASE("inbox: only the append to an empty inbox rings, and a take returns every item in order") {
  text_inbox in;
  CHECK(in.put("a"));
  CHECK_FALSE(in.put("b"));
  CHECK_FALSE(in.put("c"));
  std::vector<std::string> got;
  in.take(got);
  CHECK(got == std::vector<std::string>{"a", "b", "c"});
  // Taken: the next append rings again; a take of an empty inbox returns nothing.
  CHECK(in.put("d"));
  in.take(got);
  CHECK(got == std::vector<std::string>{"d"});
  in.take(got);
  CHECK(got.empty());
}

TEST_CASE("inbox: a consumer that takes only when rung gets every item of a producer thread once, in order") {
  // As the actor does: one take per ring. A missed ring would leave items behind and the count below short; a
  // ring without items would show as a take of nothing.
  text_inbox in;
  constexpr int n = 200000;
  std::atomic<int> rings{0};
  std::thread producer([&] {
    for (int i = 0; i < n; ++i)
      if (in.put(std::to_string(i)))
        rings.fetch_add(1);
  });
  std::vector<std::string> got;
  int answered = 0, next = 0, empty_takes = 0;
  bool in_order = true;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (next < n && std::chrono::steady_clock::now() < deadline) {
    if (rings.load() == answered) {
      std::this_thread::yield();
      continue;
    }
    ++answered;
    in.take(got);
    empty_takes += got.empty() ? 1 : 0;
    for (const auto& s : got)
      in_order = in_order && s == std::to_string(next++);
  }
  producer.join();
  CHECK(next == n);
  CHECK(in_order);
  CHECK(empty_takes == 0);
  CHECK(rings.load() == answered);
}

TEST_CASE("inbox: storage grown by a burst is released by the next take, storage of a usual take is reused") {
  text_inbox in;
  std::vector<std::string> got;
  for (std::size_t i = 0; i < 3 * text_inbox::kept_capacity; ++i)
    in.put("x");
  in.take(got); // the burst: got holds the inbox's grown storage now
  REQUIRE(got.size() == 3 * text_inbox::kept_capacity);
  in.put("y");
  in.take(got); // got's grown storage is released, not handed back to the inbox
  in.put("z");
  in.take(got); // the inbox now holds the storage of the one-item take
  CHECK(got == std::vector<std::string>{"z"});
  CHECK(got.capacity() <= text_inbox::kept_capacity);
  for (int i = 0; i < 10; ++i)
    in.put("w");
  in.take(got);
  CHECK(got.size() == 10);
  CHECK(got.capacity() <= text_inbox::kept_capacity);
}
