// The one translation unit that compiles Asio, Beast and Asio's SSL support
// (BOOST_*_SEPARATE_COMPILATION); every other file only includes declarations.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
