#include "gateways/push/push_resume.hpp"

#include <doctest/doctest.h>

using mi::gw::replay_window;
using mi::gw::resume_splice;
using mi::gw::seq_gap;

namespace {

std::shared_ptr<const std::string> f(std::uint64_t seq) {
  return std::make_shared<const std::string>(std::to_string(seq));
}

std::vector<std::pair<std::uint64_t, std::shared_ptr<const std::string>>>
frames(std::initializer_list<std::uint64_t> seqs) {
  std::vector<std::pair<std::uint64_t, std::shared_ptr<const std::string>>> out;
  for (auto s : seqs)
    out.emplace_back(s, f(s));
  return out;
}

// Everything the splice hands out, as text; a gap as "gap a-b".
std::vector<std::string> drain(resume_splice& s, std::size_t batch = 2) {
  std::vector<std::string> out;
  for (int guard = 0; guard < 1000 && !s.done(); ++guard) {
    std::vector<std::shared_ptr<const std::string>> got;
    std::optional<seq_gap> lost;
    s.take(batch, got, lost);
    for (auto& g : got) // what take() returned comes before the gap it reports
      out.push_back(*g);
    if (lost)
      out.push_back("gap " + std::to_string(lost->from) + "-" + std::to_string(lost->to));
  }
  return out;
}

} // namespace

TEST_CASE("replay window: everything after since when the stream still has it, no gap") {
  replay_window w(10, 1, 100);
  for (std::uint64_t s : {9, 10, 12, 15})
    w.add(s, f(s));
  REQUIRE(w.kept().size() == 2);
  CHECK(w.kept().front().first == 12);
  CHECK_FALSE(w.gap());
}

TEST_CASE("replay window: older than the stream keeps, or more than max, is a gap") {
  replay_window old(10, 50, 100); // the stream dropped 11..49
  old.add(55, f(55));
  CHECK(old.gap() == seq_gap{11, 49});
  replay_window many(0, 1, 2);
  for (std::uint64_t s : {3, 5, 7, 9})
    many.add(s, f(s));
  CHECK(many.kept().size() == 2);
  CHECK(many.kept().front().first == 7);
  CHECK(many.gap() == seq_gap{1, 5});
}

TEST_CASE("resume splice: replayed first, then the live ones not replayed, each once, in order") {
  resume_splice s(100);
  s.live(14, f(14)); // arrived while the read ran: the read had it too
  s.live(0, std::make_shared<const std::string>("partial"));
  s.live(16, f(16));
  CHECK(drain(s).empty()); // nothing before the replay
  s.replayed(nullptr, frames({11, 12, 14}));
  CHECK(drain(s) == std::vector<std::string>{"11", "12", "14", "partial", "16"});
  CHECK(s.done());
}

TEST_CASE("resume splice: a gap message goes first, live messages given up become a gap of their own") {
  resume_splice s(2);
  for (std::uint64_t q : {20, 21, 22, 23})
    s.live(q, f(q)); // 20 and 21 given up
  s.replayed(std::make_shared<const std::string>("gap 1-9"), frames({10, 18}));
  CHECK(drain(s, 10) == std::vector<std::string>{"gap 1-9", "10", "18", "gap 20-21", "22", "23"});
}

TEST_CASE("resume splice: live messages given up that the replay covered are no gap") {
  resume_splice s(1);
  s.live(5, f(5));
  s.live(6, f(6)); // 5 given up, but replayed
  s.replayed(nullptr, frames({4, 5}));
  CHECK(drain(s) == std::vector<std::string>{"4", "5", "6"});
}
