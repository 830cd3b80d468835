// load_any(): telling PKCS#12 from certificates (DER, PEM, bare base64).
#include "core/der.hpp"
#include "core/file_io.hpp"
#include "pkcs12/pkcs12_util.hpp"
#include "x509/base64.hpp"

namespace dpgcert {
namespace {

/// Whether the bytes start like a PFX: a SEQUENCE whose first element is an INTEGER (a
/// certificate's first element is a SEQUENCE). Tolerates truncation so that a cut-off PKCS#12
/// file is reported as a broken PKCS#12 file, not as a broken certificate.
bool looks_like_pkcs12(std::span<const std::byte> data) noexcept {
  detail::der::Header outer;
  const auto st = detail::der::read_header(data, outer);
  if (outer.header_length == 0 || st == detail::der::Status::invalid) return false;
  if (outer.tag_class != 0 || outer.tag != detail::der::kSequence || !outer.constructed) return false;
  detail::der::Header first;
  const auto st2 = detail::der::read_header(data.subspan(outer.header_length), first);
  if (first.header_length == 0 || st2 == detail::der::Status::invalid) return false;
  return first.tag_class == 0 && first.tag == detail::der::kInteger && !first.constructed;
}

LoadedFile from_pkcs12(std::span<const std::byte> data, const SecretBytes* password, const Context& ctx) {
  const SecretBytes none;
  LoadedFile out;
  out.kind = FileKind::pkcs12;
  out.bundle.emplace(load_pkcs12(data, password != nullptr ? *password : none, ctx));
  for (const auto& c : out.bundle->certificates()) out.certificates.push_back(c.certificate);
  return out;
}

}  // namespace

LoadedFile load_any(std::span<const std::byte> data, const SecretBytes* password, const Context& ctx) {
  if (data.size() > ctx.limits().max_input_bytes) {
    throw Error(ErrorCode::limit_exceeded, "input of " + std::to_string(data.size()) +
                                               " bytes exceeds the limit of " +
                                               std::to_string(ctx.limits().max_input_bytes));
  }
  if (data.empty()) throw Error(ErrorCode::malformed, "empty input");
  if (looks_like_pkcs12(data)) return from_pkcs12(data, password, ctx);
  if (data.front() != std::byte{0x30}) {
    // Text: PEM is for load_certificates; bare base64 may hold either kind.
    const std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
    if (text.find("-----BEGIN") == std::string_view::npos) {
      if (const auto decoded = detail::base64_decode(text); decoded && looks_like_pkcs12(*decoded)) {
        return from_pkcs12(*decoded, password, ctx);
      }
    }
  }
  LoadedFile out;
  out.kind = FileKind::certificate;
  out.certificates = load_certificates(data, ctx);
  return out;
}

LoadedFile load_any_file(const std::filesystem::path& path, const SecretBytes* password, const Context& ctx) {
  const auto data = detail::read_file(path, {.limit = ctx.limits().max_input_bytes});
  return load_any(data, password, ctx);
}

}  // namespace dpgcert
