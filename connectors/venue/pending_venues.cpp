// Temporary: the venues not written yet.
#include "connectors/venue/detail.hpp"
namespace mi::venue::detail {
std::unique_ptr<venue> make_kraken(const venue_options&) { return nullptr; }
} // namespace mi::venue::detail
