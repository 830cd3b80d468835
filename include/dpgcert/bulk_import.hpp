// Onboarding many PKCS#12 files at once: read, decrypt and validate on every core, store in batches.
#pragma once

#include <dpgcert/context.hpp>
#include <dpgcert/error.hpp>
#include <dpgcert/export.hpp>
#include <dpgcert/secret.hpp>
#include <dpgcert/store.hpp>

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace dpgcert {

/// One PKCS#12 file to onboard.
struct BulkImportItem {
  std::filesystem::path path;  ///< Read by a worker (bounded by the Context's input limit).
  SecretBytes password;        ///< Its password (empty: the empty password, tried as OpenSSL does).
  /// Where to attach it; absent: the options' defaults (ImportOptions::organisation_cvr, mailbox).
  std::optional<std::string> organisation_cvr;
  std::optional<std::string> mailbox;
};

/// What became of one item.
struct BulkImportResult {
  std::size_t index = 0;              ///< Position in the input.
  std::filesystem::path path;
  std::optional<ImportResult> import;  ///< Set when the file was read, opened and offered to the store.
  std::optional<Error> error;          ///< Set when it could not be (wrong password, malformed, I/O, ...).
};

/// How to run a bulk import.
struct BulkImportOptions {
  /// Worker threads; 0: one per core (std::thread::hardware_concurrency()).
  unsigned threads = 0;
  /// Applied to every item: validation input, force, actor, and the default organisation/mailbox.
  /// `source` is replaced by each file's absolute path.
  ImportOptions defaults;
  /// Called after each item with the number done so far, the total and the item's result. Calls
  /// are serialised (never two at once) but come from the worker threads.
  std::function<void(std::size_t done, std::size_t total, const BulkImportResult&)> progress;
};

/// Imports every item into `store`: each worker reads a file and opens it (the key derivation is
/// the expensive part), then hands its files to Store::import_many() in batches of up to 32 (no
/// more than its share of the items), which validates them and writes each batch in one
/// transaction (a file that fails is undone alone, as import_many() says). Workers run in parallel; the store serialises
/// its writes. One item's failure never stops the others and leaves nothing of that item stored;
/// a batch whose transaction fails as a whole (I/O, a lost connection) stores none of its items
/// and reports the error on each. The chain certificates the files carry (the same issuing CA and
/// root over and over) are shared between items by their bytes, so each is parsed once per call.
/// Results come back in input order; progress is reported for a file when its batch is written
/// (at once when it cannot be read or opened), and its password is wiped then. Lineage does not
/// depend on the order in which the files finish: a newer certificate supersedes an older one
/// whichever arrives first.
///
/// Thread safety: `store` and `ctx` must be usable from several threads (both are).
[[nodiscard]] DPGCERT_API std::vector<BulkImportResult> import_files(Store& store, std::vector<BulkImportItem> items,
                                                                     const BulkImportOptions& options,
                                                                     const Context& ctx = Context::shared());

}  // namespace dpgcert
