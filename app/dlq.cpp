// `market-ingestor dlq list|redrive|drop`: inspect and handle the savers' dead letters (MARKET_DLQ).
#include <iostream>
#include <memory>

#include "app/cli.hpp"
#include "app/commands.hpp"
#include "config/config.hpp"
#include "gateways/jetstream/from_config.hpp"
#include "gateways/jetstream/jetstream.hpp"

namespace mi::app {
namespace {

std::string h(const mi::gw::js_message& m, const char* name) { return m.header(name).value_or("?"); }

} // namespace

mi::result<std::string> redrive_dead_letter(mi::gw::jetstream& js, const std::string& dlq_stream,
                                            const mi::gw::js_message& msg, std::uint64_t seq) {
  // No Nats-Msg-Id: the original id may still be inside the stream's duplicate window, and a
  // redelivery that is in the database already is absorbed by its unique key anyway.
  mi::gw::outgoing o{h(msg, "Mi-Dlq-Subject"), "", msg.header("Content-Type").value_or(""), std::string(msg.data())};
  auto r = js.publish_sync(o);
  if (!r)
    return r.err();
  auto d = js.delete_message(dlq_stream, seq);
  if (!d)
    return d.err();
  return o.subject + " (seq " + std::to_string(r->first) + ")";
}

int run_dlq(const std::string& config_path, const std::string& action, const std::vector<std::uint64_t>& seqs,
            bool all) {
  const auto loaded = load_config(config_path);
  if (!loaded)
    return 2;
  const auto& cfg = *loaded;
  if (action != "list" && seqs.empty() && !all) {
    std::cerr << "dlq " << action << ": name the messages with --seq N (repeatable) or --all\n";
    return 2;
  }
  auto jo = mi::gw::to_options(cfg.nats); // every nats setting (timeouts, publish window), as the platform
  jo.name = "market-ingestor dlq";
  auto js = mi::gw::jetstream::connect(jo);
  if (!js) {
    std::cerr << "dlq: " << js.err().message << "\n";
    return 2;
  }
  const auto& stream = cfg.nats.dlq.name;
  auto st = (*js)->state(stream);
  if (!st) {
    std::cerr << "dlq: " << st.err().message << "\n";
    return 2;
  }
  std::vector<std::uint64_t> todo = seqs;
  if (action == "list" || all) {
    todo.clear();
    for (auto s = st->first_seq; st->messages > 0 && s <= st->last_seq; ++s)
      todo.push_back(s);
  }
  std::uint64_t done = 0;
  for (auto seq : todo) {
    auto m = (*js)->get_message(stream, seq);
    if (!m) {
      std::cerr << "dlq: " << m.err().message << "\n";
      return 2;
    }
    if (!*m) {
      if (action != "list" && !all)
        std::cerr << "dlq: no message " << seq << " in " << stream << "\n";
      continue;
    }
    auto& msg = **m;
    if (action == "list") {
      std::cout << seq << "\t" << msg.subject() << "\tfrom " << h(msg, "Mi-Dlq-Stream") << " #"
                << h(msg, "Mi-Dlq-Sequence") << " " << h(msg, "Mi-Dlq-Subject") << " id " << h(msg, "Mi-Dlq-Msg-Id")
                << "\tattempts " << h(msg, "Mi-Dlq-Attempts") << "\treason: " << h(msg, "Mi-Dlq-Reason") << "\n";
      ++done;
      continue;
    }
    if (action == "redrive") {
      auto r = redrive_dead_letter(**js, stream, msg, seq);
      if (!r) {
        std::cerr << "dlq: redrive " << seq << ": " << r.err().message << "\n";
        return 2;
      }
      std::cout << "redriven " << seq << " -> " << *r << "\n";
      ++done;
      continue;
    }
    auto d = (*js)->delete_message(stream, seq);
    if (!d) {
      std::cerr << "dlq: " << d.err().message << "\n";
      return 2;
    }
    if (action == "drop")
      std::cout << "dropped " << seq << "\n";
    ++done;
  }
  if (action == "list")
    std::cout << done << " dead letters in " << stream << "\n";
  return 0;
}

command add_dlq(CLI::App& app) {
  auto* sub = app.add_subcommand("dlq", "dead letters of the savers (MARKET_DLQ): list, redrive or drop them");
  struct opts {
    std::string config = default_config_path;
    std::string action;
    std::vector<std::uint64_t> seqs;
    bool all = false;
  };
  auto o = std::make_shared<opts>();
  sub->add_option("action", o->action, "list | redrive | drop")
    ->required()
    ->check(CLI::IsMember({"list", "redrive", "drop"}));
  sub->add_option("--config,-c", o->config, "YAML config file")->check(CLI::ExistingFile);
  sub->add_option("--seq", o->seqs, "MARKET_DLQ sequence (repeatable), for redrive and drop");
  sub->add_flag("--all", o->all, "every dead letter, for redrive and drop");
  return {sub, [o] { return run_dlq(o->config, o->action, o->seqs, o->all); }};
}

} // namespace mi::app
