#include "connectors/transport/io_shards.hpp"

#include <atomic>
#include <chrono>
#include <future>
#include <set>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <doctest/doctest.h>

TEST_CASE("io shards: each context runs on exactly one thread of its own, until stop") {
  mi::net::io_shards shards(3);
  REQUIRE(shards.size() == 3);
  REQUIRE(shards.contexts().size() == 3);
  CHECK(shards.contexts()[1] == &shards.context(1));
  // Many handlers per context: all of one context see the same thread (what lets a push session go without a
  // strand), and the three contexts three different threads.
  std::vector<std::set<std::thread::id>> seen(3);
  std::vector<std::promise<void>> done(3);
  for (std::size_t i = 0; i < 3; ++i)
    for (int n = 0; n < 100; ++n)
      boost::asio::post(shards.context(i), [&, i, n] {
        seen[i].insert(std::this_thread::get_id()); // one thread per context: no lock needed
        if (n == 99)
          done[i].set_value();
      });
  for (auto& d : done)
    REQUIRE(d.get_future().wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  std::set<std::thread::id> all;
  for (const auto& s : seen) {
    CHECK(s.size() == 1);
    all.insert(s.begin(), s.end());
  }
  CHECK(all.size() == 3);
  CHECK(all.count(std::this_thread::get_id()) == 0);
  shards.stop();
  shards.stop(); // idempotent
  CHECK(shards.context(0).stopped());
}
