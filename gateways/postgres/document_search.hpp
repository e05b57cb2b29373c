#pragma once

// The document search statement (internal to gateways/postgres): one SQL for document_store::search and the REST
// API's history_db::documents, on whichever connection the caller holds.

#include <pqxx/pqxx>

#include "gateways/postgres/document_store.hpp"

namespace mi::gw::detail {

/// GET /api/v1/documents's query in transaction `w` (throws pqxx errors: the caller maps them). Adaptive for a text
/// `q` (document_store::search); `mode` plain: the one statement.
mi::result<document_page> search_documents(pqxx::transaction_base& w, const document_query& q,
                                           search_mode mode = search_mode::adaptive);

} // namespace mi::gw::detail
