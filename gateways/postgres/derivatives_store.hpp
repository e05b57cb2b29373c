#pragma once

// market_derivatives (migration 0010): perpetual-swap events from MARKET_DERIV, one row per event.

#include <cstddef>
#include <string>
#include <vector>

#include "messages/deriv/derivative.hpp"
#include "messages/result.hpp"

namespace mi::gw {

/// Inserts `rows` in one transaction (a row already stored, same dedup id, is kept once); the rows inserted, or the
/// database error.
mi::result<std::size_t> write_derivatives(const std::string& conninfo, const std::vector<mi::deriv::derivative>& rows);

} // namespace mi::gw
