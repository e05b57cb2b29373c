#pragma once

// A SQL statement built with numbered parameters (internal to gateways/postgres): the REST reads of
// history_reader.cpp and the document search of document_store.cpp.

#include <cstdint>
#include <string>
#include <vector>

#include <pqxx/pqxx>

namespace mi::gw::detail {

/// A statement and its parameters, numbered as they are added (every parameter is used, so
/// PostgreSQL can infer each one's type).
struct statement {
  std::string sql;
  std::vector<std::string> args;
  /// "$n" for a new parameter with this text value.
  std::string arg(std::string v) {
    args.push_back(std::move(v));
    return "$" + std::to_string(args.size());
  }
  /// An exact timestamptz for `n` units since the epoch (unit: "millisecond" or "microsecond").
  std::string time_arg(std::int64_t n, const char* unit) {
    return "('epoch'::timestamptz + " + arg(std::to_string(n)) + "::bigint * interval '1 " + unit + "')";
  }
  pqxx::result run(pqxx::transaction_base& w) const {
    return w.exec_params(sql, pqxx::prepare::make_dynamic_params(args));
  }
};

} // namespace mi::gw::detail
