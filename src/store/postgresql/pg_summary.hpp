// The columns of a CertificateSummary as the PostgreSQL backend selects them, shared by the
// store's queries and the lifecycle bookkeeping. Private to the store layer.
#pragma once

#include "store/postgresql/pg_connection.hpp"

#include <dpgcert/store.hpp>

#include <string_view>

namespace dpgcert::postgresql {

// Columns 0..12 of every certificate read.
inline constexpr std::string_view kSummarySelect =
    "SELECT c.id, c.fingerprint, c.status, c.not_before, c.not_after, o.cvr, m.address, c.cvr, c.generation, "
    "c.type, c.environment, c.oces_id, c.common_name";
inline constexpr std::string_view kSummaryFrom =
    " FROM certificates c LEFT JOIN organisations o ON o.id = c.organisation_id"
    " LEFT JOIN mailboxes m ON m.id = c.mailbox_id";
inline constexpr int kSummaryColumns = 13;

/// Reads columns 0..12 (kSummarySelect) of row `i` but the organisation (5) and mailbox (6).
inline void read_summary_columns(const Result& r, int i, CertificateSummary& s) {
  s.id = r.integer(i, 0);
  s.fingerprint = r.text(i, 1);
  s.status = parse_certificate_status(r.view(i, 2)).value_or(CertificateStatus::active);
  s.not_before = from_unix(r.integer(i, 3));
  s.not_after = from_unix(r.integer(i, 4));
  s.cvr = r.optional_text(i, 7);
  s.generation = oces::parse_generation(r.view(i, 8)).value_or(oces::Generation::none);
  s.type = oces::parse_certificate_type(r.view(i, 9)).value_or(oces::CertificateType::none);
  s.environment = oces::parse_environment(r.view(i, 10)).value_or(oces::Environment::unknown);
  s.oces_id = r.optional_text(i, 11);
  s.common_name = r.optional_text(i, 12);
}

/// Reads columns 0..12 (kSummarySelect) of row `i`.
inline void read_summary(const Result& r, int i, CertificateSummary& s) {
  read_summary_columns(r, i, s);
  s.organisation_cvr = r.optional_text(i, 5);
  s.mailbox = r.optional_text(i, 6);
}

inline std::int64_t to_i64(std::size_t n) { return static_cast<std::int64_t>(n); }

}  // namespace dpgcert::postgresql
