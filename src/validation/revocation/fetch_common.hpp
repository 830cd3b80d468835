// Private to the revocation fetcher: turning a transport outcome into a RevocationError.
#pragma once

#include "core/net/http_fetch.hpp"

#include <dpgcert/revocation.hpp>

namespace dpgcert::revocation_detail {

[[nodiscard]] inline RevocationFailure failure_of(net_detail::FetchFailure f) noexcept {
  using net_detail::FetchFailure;
  switch (f) {
    case FetchFailure::bad_url: return RevocationFailure::bad_url;
    case FetchFailure::timeout: return RevocationFailure::timeout;
    case FetchFailure::too_large: return RevocationFailure::too_large;
    case FetchFailure::too_many_redirects: return RevocationFailure::too_many_redirects;
    case FetchFailure::http_status: return RevocationFailure::http_status;
    case FetchFailure::none:
    case FetchFailure::transport: break;
  }
  return RevocationFailure::transport;
}

[[nodiscard]] inline RevocationError make_error(RevocationFailure kind, std::string reason, const std::string& url) {
  return RevocationError{kind, std::move(reason), url};
}

/// Whether a URL is one the fetcher may ask (http or https, by its scheme text).
[[nodiscard]] inline bool is_http_url(std::string_view url) noexcept {
  auto starts = [url](std::string_view p) {
    if (url.size() < p.size()) return false;
    for (std::size_t i = 0; i < p.size(); ++i) {
      const char c = url[i];
      if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != p[i]) return false;
    }
    return true;
  };
  return starts("http://") || starts("https://");
}

[[nodiscard]] std::string date_words(Time t);

}  // namespace dpgcert::revocation_detail
