// The columns of a CertificateSummary as the SQLite backend selects them, shared by the store's
// queries and the lifecycle bookkeeping. Private to the store layer.
#pragma once

#include "store/sqlite/sqlite_db.hpp"

#include <dpgcert/store.hpp>

#include <string_view>

namespace dpgcert::sqlite {

// Columns 0..12 of every certificate read: the summary (all in the certificates_active_expiry index).
inline constexpr std::string_view kSummarySelect =
    "SELECT c.id, c.fingerprint, c.status, c.not_before, c.not_after, o.cvr, m.address, c.cvr, c.generation, "
    "c.type, c.environment, c.oces_id, c.common_name";
inline constexpr std::string_view kSummaryFrom =
    " FROM certificates c LEFT JOIN organisations o ON o.id = c.organisation_id"
    " LEFT JOIN mailboxes m ON m.id = c.mailbox_id";
inline constexpr int kSummaryColumns = 13;

/// Reads columns 0..12 (kSummarySelect) of the current row.
inline void read_summary(const Statement& st, CertificateSummary& s) {
  s.id = st.integer(0);
  s.fingerprint = st.text(1);
  s.status = parse_certificate_status(st.view(2)).value_or(CertificateStatus::active);
  s.not_before = from_unix(st.integer(3));
  s.not_after = from_unix(st.integer(4));
  s.organisation_cvr = st.optional_text(5);
  s.mailbox = st.optional_text(6);
  s.cvr = st.optional_text(7);
  s.generation = oces::parse_generation(st.view(8)).value_or(oces::Generation::none);
  s.type = oces::parse_certificate_type(st.view(9)).value_or(oces::CertificateType::none);
  s.environment = oces::parse_environment(st.view(10)).value_or(oces::Environment::unknown);
  s.oces_id = st.optional_text(11);
  s.common_name = st.optional_text(12);
}

}  // namespace dpgcert::sqlite
