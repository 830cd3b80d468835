// The sinks' names for the shared libcurl plumbing, which moved to core/net/ so that the revocation
// fetcher (validation layer) uses the same code.
#pragma once

#include "core/net/curl_support.hpp"

namespace dpgcert::lifecycle_detail {

using net_detail::CurlEasy;
using net_detail::is_loopback_host;
using net_detail::restrict_protocols;
using net_detail::transport_error;
using net_detail::url_parts;
using net_detail::UrlParts;

}  // namespace dpgcert::lifecycle_detail
