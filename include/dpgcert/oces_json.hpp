// JSON form of an OCES identity, for the command-line tool and the bindings.
#pragma once

#include <dpgcert/export.hpp>
#include <dpgcert/oces.hpp>

#include <nlohmann/json_fwd.hpp>

namespace dpgcert::oces {

/// The identity as a JSON object. Every key is always present: `generation`, `type`, `cvr`,
/// `cvr_valid`, `subject_serial`, `uid`, `fid`, `rid`, `pid`, `uuid`, `organisation`,
/// `common_name`, `email`, `environment`, `issuing_ca` (strings, `cvr_valid` a boolean; enum values
/// lowercase as to_string() names them; `null` where absent, `generation`/`type` `null` for "none"
/// and `environment` `null` for "unknown"), and `warnings` (an array of strings, possibly empty).
[[nodiscard]] DPGCERT_API nlohmann::json to_json(const Identity& identity);

/// The same, for nlohmann's conversions: `nlohmann::json j = identity;`.
DPGCERT_API void to_json(nlohmann::json& out, const Identity& identity);

}  // namespace dpgcert::oces
