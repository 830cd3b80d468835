// One bounded HTTP exchange for fetching data (CRLs by GET, OCSP by POST): redirects followed up to
// a limit, http/https only (redirects too), connect and total timeouts, the body capped whether the
// server announces its length or sends it chunked, conditional GET. No curl type here, so the
// validation layer includes it without libcurl's headers. Private to dpgcert.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace dpgcert::net_detail {

struct FetchRequest {
  std::string url;
  /// Set: a POST of this body (with `content_type`); absent: a GET.
  std::optional<std::vector<std::byte>> post_body;
  std::string content_type;
  std::vector<std::string> headers;  ///< Extra "Name: value" lines (no CR or LF: refused).
  std::size_t max_bytes = 10 * 1024 * 1024;
  long max_redirects = 3;
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds timeout{30000};  ///< For the whole exchange, redirects included.
  std::string if_none_match;      ///< An ETag from an earlier answer ("" for none).
  std::string if_modified_since;  ///< A Last-Modified from an earlier answer ("" for none).
};

/// Why an exchange brought no usable answer.
enum class FetchFailure {
  none,
  bad_url,         ///< Not a URL, or not http/https.
  transport,       ///< Cannot resolve or connect, TLS failed, connection reset, ...
  timeout,         ///< The connect or total timeout passed.
  too_large,       ///< The body (announced or received) passed max_bytes.
  too_many_redirects,
  http_status,     ///< An HTTP status other than 200 (and 304 for a conditional GET).
};

struct FetchResponse {
  FetchFailure failure = FetchFailure::none;
  std::string error;  ///< Words for a failure ("" without one).
  long status = 0;
  std::vector<std::byte> body;
  std::string etag;
  std::string last_modified;
  std::string content_type;
  std::string effective_url;  ///< After redirects.
  long redirects = 0;
  /// True for a 304 answer to a conditional GET: what was held is still current.
  [[nodiscard]] bool not_modified() const noexcept { return failure == FetchFailure::none && status == 304; }
};

/// Performs the exchange. Never throws for what the network or the server did (that is in the
/// response); the proxy comes from the usual environment variables (http_proxy, https_proxy,
/// no_proxy), never towards the loopback host.
[[nodiscard]] FetchResponse http_fetch(const FetchRequest& request);

}  // namespace dpgcert::net_detail
