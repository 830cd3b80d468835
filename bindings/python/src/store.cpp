// The store layer of the _dpgcert module: CertificateSummary, ImportResult, Store.
#include "module.hpp"

#include <dpgcert/bulk_import.hpp>
#include <dpgcert/pkcs12.hpp>
#include <dpgcert/token.hpp>
#include <dpgcert/vault.hpp>

namespace dpgcert::python {
namespace {

StoreOptions store_options(const std::filesystem::path& path, const std::optional<std::filesystem::path>& key_file,
                           const py::object& passphrase, const std::optional<std::string>& actor,
                           const py::object& now) {
  StoreOptions o;
  o.path = path;
  if (key_file) o.unlock.key_file = *key_file;
  if (!passphrase.is_none()) o.unlock.passphrase = password_from(passphrase, "passphrase");
  if (actor) o.actor = *actor;
  if (const auto t = optional_time(now, "now")) o.clock = std::make_shared<FixedClock>(*t);
  return o;
}

CertificateQuery make_query(const std::optional<std::string>& organisation_cvr, const std::optional<std::string>& mailbox,
                            const std::optional<std::string>& status, const py::object& not_after_before,
                            const py::object& not_after_from, std::size_t limit, std::size_t offset) {
  CertificateQuery q;
  q.organisation_cvr = organisation_cvr;
  q.mailbox = mailbox;
  if (status) {
    q.status = parse_certificate_status(*status);
    if (!q.status) {
      throw Error(ErrorCode::invalid_argument,
                  "status must be 'active', 'superseded', 'revoked' or 'retired', not '" + *status + "'");
    }
  }
  q.not_after_before = optional_time(not_after_before, "not_after_before");
  q.not_after_from = optional_time(not_after_from, "not_after_from");
  q.limit = limit;
  q.offset = offset;
  return q;
}

std::string summary_repr(const CertificateSummary& s) {
  return "<CertificateSummary " + s.fingerprint.substr(0, 16) + " " + std::string(to_string(s.status)) +
         " not_valid_after=" + rfc3339(s.not_after) + (s.mailbox ? " mailbox=" + repr_text(*s.mailbox) : "") +
         (s.common_name ? " common_name=" + repr_text(*s.common_name) : "") + ">";
}

bool same_summary(const CertificateSummary& a, const CertificateSummary& b) {
  return a.id == b.id && a.fingerprint == b.fingerprint && a.status == b.status && a.not_before == b.not_before &&
         a.not_after == b.not_after && a.organisation_cvr == b.organisation_cvr && a.mailbox == b.mailbox &&
         a.cvr == b.cvr && a.generation == b.generation && a.type == b.type && a.environment == b.environment &&
         a.oces_id == b.oces_id && a.common_name == b.common_name;
}

}  // namespace

void bind_store(py::module_& m) {
  // ---- the store ----
  py::class_<CertificateSummary>(m, "CertificateSummary", "A certificate as a store lists it. An immutable value.")
      .def_readonly("id", &CertificateSummary::id)
      .def_readonly("fingerprint", &CertificateSummary::fingerprint)
      .def_property_readonly("status", [](const CertificateSummary& s) { return std::string(to_string(s.status)); })
      .def_property_readonly("not_valid_before_utc", [](const CertificateSummary& s) { return to_datetime(s.not_before); })
      .def_property_readonly("not_valid_after_utc", [](const CertificateSummary& s) { return to_datetime(s.not_after); })
      .def_readonly("organisation_cvr", &CertificateSummary::organisation_cvr)
      .def_readonly("mailbox", &CertificateSummary::mailbox)
      .def_readonly("cvr", &CertificateSummary::cvr)
      .def_property_readonly("generation", [](const CertificateSummary& s) { return std::string(oces::to_string(s.generation)); })
      .def_property_readonly("type", [](const CertificateSummary& s) { return std::string(oces::to_string(s.type)); })
      .def_property_readonly("environment", [](const CertificateSummary& s) { return std::string(oces::to_string(s.environment)); })
      .def_readonly("oces_id", &CertificateSummary::oces_id)
      .def_readonly("common_name", &CertificateSummary::common_name)
      .def("__eq__", equality<CertificateSummary>(same_summary))
      .def("__hash__", [](const CertificateSummary& s) {
        return py::hash(py::make_tuple(s.id, s.fingerprint, std::string(to_string(s.status))));
      })
      .def("__repr__", summary_repr);

  py::class_<ImportResult>(m, "ImportResult", "What Store.import_pkcs12() did.")
      .def_property_readonly("outcome", [](const ImportResult& r) { return std::string(to_string(r.outcome)); })
      .def_readonly("fingerprint", &ImportResult::fingerprint)
      .def_readonly("report", &ImportResult::report)
      .def_property_readonly("summary", [](const ImportResult& r) -> std::optional<CertificateSummary> {
        if (!r.record) return std::nullopt;
        return static_cast<const CertificateSummary&>(*r.record);
      })
      .def_readonly("superseded", &ImportResult::superseded)
      .def("__repr__", [](const ImportResult& r) {
        return "<ImportResult " + std::string(to_string(r.outcome)) + " " + r.fingerprint.substr(0, 16) +
               (r.superseded.empty() ? "" : " superseded=" + std::to_string(r.superseded.size())) + ">";
      });

  py::class_<BulkImportResult>(m, "BulkImportResult", "What Store.import_files() did with one file.")
      .def_readonly("index", &BulkImportResult::index)
      .def_property_readonly("path", [](const BulkImportResult& r) { return r.path.string(); })
      .def_property_readonly("result", [](const BulkImportResult& r) -> py::object {
        if (!r.import) return py::none();
        return py::cast(*r.import);
      })
      .def_property_readonly("error", [](const BulkImportResult& r) -> py::object {
        if (!r.error) return py::none();
        return error_object(*r.error);
      })
      .def("__repr__", [](const BulkImportResult& r) {
        std::string what = r.error ? "error=" + std::string(to_string(r.error->code()))
                                   : r.import ? std::string(to_string(r.import->outcome)) : "none";
        return "<BulkImportResult " + std::to_string(r.index) + " " + repr_text(r.path.string()) + " " + what + ">";
      });

  py::class_<PyStore>(m, "Store",
                      "An inventory store (SQLite): organisations, mailboxes and certificates with their PKCS#12 "
                      "file and password sealed. May be shared between threads.")
      .def(py::init([](const std::filesystem::path& path, const std::optional<std::filesystem::path>& key_file,
                       const py::object& passphrase, const std::optional<std::string>& actor, const py::object& now) {
             StoreOptions o = store_options(path, key_file, passphrase, actor, now);
             std::shared_ptr<Store> s;
             {
               py::gil_scoped_release unlocked;
               s = Store::open(std::move(o));
             }
             return std::make_unique<PyStore>(std::move(s), path.string());
           }),
           py::arg("path"), py::kw_only(), py::arg("key_file") = py::none(), py::arg("passphrase") = py::none(),
           py::arg("actor") = py::none(), py::arg("now") = py::none(),
           "Opens an existing store. `key_file`/`passphrase` override what the store remembers about its master "
           "key; `now` (an aware datetime) freezes the store's clock.")
      .def_static(
          "create",
          [](const std::filesystem::path& path, const std::optional<std::filesystem::path>& key_file,
             const py::object& passphrase, std::optional<std::uint32_t> argon2_memory_kib,
             std::optional<std::uint32_t> argon2_iterations, std::optional<std::uint32_t> argon2_parallelism,
             const std::optional<std::string>& actor, const py::object& now) {
            StoreOptions o = store_options(path, key_file, passphrase, actor, now);
            std::optional<vault::KeySource> key;
            if (o.unlock.passphrase) {
              vault::Argon2Params params = vault::Argon2Params::defaults();
              if (argon2_memory_kib) params.memory_kib = *argon2_memory_kib;
              if (argon2_iterations) params.iterations = *argon2_iterations;
              if (argon2_parallelism) params.parallelism = *argon2_parallelism;
              key = vault::KeySource::passphrase(o.unlock.passphrase->clone(), params);
            } else if (key_file) {
              key = vault::KeySource::key_file(*key_file);
            } else {
              throw Error(ErrorCode::invalid_argument, "a new store needs key_file or passphrase");
            }
            std::shared_ptr<Store> s;
            {
              py::gil_scoped_release unlocked;
              s = Store::create(std::move(o), *key);
            }
            return PyStore(std::move(s), path.string());
          },
          py::arg("path"), py::kw_only(), py::arg("key_file") = py::none(), py::arg("passphrase") = py::none(),
          py::arg("argon2_memory_kib") = py::none(), py::arg("argon2_iterations") = py::none(),
          py::arg("argon2_parallelism") = py::none(), py::arg("actor") = py::none(), py::arg("now") = py::none(),
          "Creates a new store sealed under a key file (made when missing) or a passphrase (Argon2id).")
      .def_property_readonly("path", &PyStore::path)
      .def_property_readonly("closed", &PyStore::closed)
      .def(
          "import_pkcs12",
          [](const PyStore& self, const py::object& data, const py::object& password,
             std::optional<std::string> organisation_cvr, std::optional<std::string> mailbox, bool force,
             std::optional<std::string> actor, std::optional<std::string> source, const py::object& at,
             std::string policy, std::optional<std::string> environment, std::optional<std::string> expected_cvr,
             std::optional<int> min_days, std::optional<std::vector<Certificate>> trust,
             std::vector<Certificate> intermediates, const py::iterable& crls, std::string revocation_mode,
             bool require_revocation, std::optional<double> revocation_timeout) {
            const auto store = self.get();
            const Buffer b(data, "data");
            const SecretBytes pw = password_from(password, "password");
            ValidationArgs args(at, std::move(policy), std::move(environment), std::move(expected_cvr), min_days,
                                std::move(trust), std::move(intermediates), crls);
            args.revocation_mode = std::move(revocation_mode);
            args.revocation_timeout = revocation_timeout;
            ImportOptions o;
            o.organisation_cvr = std::move(organisation_cvr);
            o.mailbox = std::move(mailbox);
            o.force = force;
            if (actor) o.actor = *actor;
            if (source) o.source = *source;
            py::gil_scoped_release unlocked;
            o.validation = args.input();  // `at` unset: the store clock's now
            if (require_revocation) o.validation.policy.require_revocation_data = true;
            const Pkcs12Bundle bundle = load_pkcs12(b.bytes(), pw);
            return store->import(bundle, b.bytes(), pw, o);
          },
          py::arg("data"), py::arg("password"), py::kw_only(), py::arg("organisation_cvr") = py::none(),
          py::arg("mailbox") = py::none(), py::arg("force") = false, py::arg("actor") = py::none(),
          py::arg("source") = py::none(), py::arg("at") = py::none(), py::arg("policy") = "oces_gateway",
          py::arg("environment") = py::none(), py::arg("expected_cvr") = py::none(), py::arg("min_days") = py::none(),
          py::arg("trust") = py::none(), py::arg("intermediates") = std::vector<Certificate>{},
          py::arg("crls") = py::tuple(), py::arg("revocation_mode") = "offline", py::arg("require_revocation") = false,
          py::arg("revocation_timeout") = py::none(),
          "Opens a PKCS#12 file, validates it (at `at`, default the store's now) and stores it with its password "
          "sealed. Idempotent by fingerprint; a failing report is refused unless `force`. revocation_mode='online' "
          "asks OCSP / the CRLs (kept in the store) for every certificate of the path; require_revocation refuses a "
          "file whose revocation cannot be had.")
      .def(
          "import_files",
          [](const PyStore& self, const py::iterable& files, unsigned threads,
             std::optional<std::string> organisation_cvr, std::optional<std::string> mailbox, bool force,
             std::optional<std::string> actor, const py::object& at, std::string policy,
             std::optional<std::string> environment, std::optional<std::string> expected_cvr,
             std::optional<int> min_days, std::optional<std::vector<Certificate>> trust,
             std::vector<Certificate> intermediates, const py::iterable& crls, std::string revocation_mode,
             bool require_revocation, std::optional<double> revocation_timeout, const py::object& progress) {
            const auto store = self.get();
            std::vector<BulkImportItem> items;
            const py::object fspath = py::module_::import("os").attr("fspath");
            for (const py::handle entry : files) {
              if (!py::isinstance<py::tuple>(entry) && !py::isinstance<py::list>(entry)) {
                throw py::type_error("files must hold (path, password[, organisation_cvr[, mailbox]]) tuples");
              }
              const auto item = py::reinterpret_borrow<py::sequence>(entry);
              if (item.size() < 2 || item.size() > 4) {
                throw py::type_error("files must hold (path, password[, organisation_cvr[, mailbox]]) tuples, "
                                     "not one of " + std::to_string(item.size()));
              }
              const py::object path = fspath(item[0]);
              if (!py::isinstance<py::str>(path)) throw py::type_error("a file's path must be str or os.PathLike");
              BulkImportItem it;
              it.path = path.cast<std::string>();
              it.password = password_from(item[1], "password");
              if (item.size() > 2 && !item[2].is_none()) it.organisation_cvr = item[2].cast<std::string>();
              if (item.size() > 3 && !item[3].is_none()) it.mailbox = item[3].cast<std::string>();
              items.push_back(std::move(it));
            }
            ValidationArgs args(at, std::move(policy), std::move(environment), std::move(expected_cvr), min_days,
                                std::move(trust), std::move(intermediates), crls);
            args.revocation_mode = std::move(revocation_mode);
            args.revocation_timeout = revocation_timeout;
            BulkImportOptions o;
            o.threads = threads;
            o.defaults.organisation_cvr = std::move(organisation_cvr);
            o.defaults.mailbox = std::move(mailbox);
            o.defaults.force = force;
            if (actor) o.defaults.actor = *actor;
            // The callback runs on the workers with the GIL taken; its first exception is raised
            // once every file is done (the imports it reported on are stored).
            std::optional<py::error_already_set> failed;
            if (!progress.is_none()) {
              o.progress = [&progress, &failed](std::size_t done, std::size_t total, const BulkImportResult& r) {
                py::gil_scoped_acquire gil;
                if (failed) return;
                try {
                  progress(done, total, r);
                } catch (py::error_already_set& e) {
                  failed = std::move(e);
                }
              };
            }
            std::vector<BulkImportResult> results;
            {
              py::gil_scoped_release unlocked;
              o.defaults.validation = args.input();  // `at` unset: the store clock's now
              if (require_revocation) o.defaults.validation.policy.require_revocation_data = true;
              results = import_files(*store, std::move(items), o);
            }
            if (failed) throw std::move(*failed);
            return results;
          },
          py::arg("files"), py::kw_only(), py::arg("threads") = 0U, py::arg("organisation_cvr") = py::none(),
          py::arg("mailbox") = py::none(), py::arg("force") = false, py::arg("actor") = py::none(),
          py::arg("at") = py::none(), py::arg("policy") = "oces_gateway", py::arg("environment") = py::none(),
          py::arg("expected_cvr") = py::none(), py::arg("min_days") = py::none(), py::arg("trust") = py::none(),
          py::arg("intermediates") = std::vector<Certificate>{}, py::arg("crls") = py::tuple(),
          py::arg("revocation_mode") = "offline", py::arg("require_revocation") = false,
          py::arg("revocation_timeout") = py::none(), py::arg("progress") = py::none(),
          "Onboards many PKCS#12 files: `files` holds (path, password[, organisation_cvr[, mailbox]]) tuples. "
          "Each file is read, opened and validated on `threads` workers (0: one per core) and stored in batches, "
          "one transaction each. One file's failure never stops the others: every file gets a BulkImportResult, "
          "in input order, with its ImportResult or its error (an exception object, not raised). `progress`, "
          "when given, is called as progress(done, total, BulkImportResult) after each file, from the workers; "
          "an exception it raises is raised when every file is done. The options are import_pkcs12()'s; a "
          "file's own organisation_cvr and mailbox override them.")
      .def(
          "query",
          [](const PyStore& self, const std::optional<std::string>& organisation_cvr,
             const std::optional<std::string>& mailbox, const std::optional<std::string>& status,
             const py::object& not_after_before, const py::object& not_after_from, std::size_t limit,
             std::size_t offset) {
            const auto store = self.get();
            const CertificateQuery q =
                make_query(organisation_cvr, mailbox, status, not_after_before, not_after_from, limit, offset);
            py::gil_scoped_release unlocked;
            return store->query(q);
          },
          py::kw_only(), py::arg("organisation_cvr") = py::none(), py::arg("mailbox") = py::none(),
          py::arg("status") = py::none(), py::arg("not_after_before") = py::none(),
          py::arg("not_after_from") = py::none(), py::arg("limit") = 0, py::arg("offset") = 0,
          "Certificates matching every given filter, ordered by expiry then fingerprint.")
      .def(
          "count",
          [](const PyStore& self, const std::optional<std::string>& organisation_cvr,
             const std::optional<std::string>& mailbox, const std::optional<std::string>& status,
             const py::object& not_after_before, const py::object& not_after_from) {
            const auto store = self.get();
            const CertificateQuery q = make_query(organisation_cvr, mailbox, status, not_after_before, not_after_from, 0, 0);
            py::gil_scoped_release unlocked;
            return store->count(q);
          },
          py::kw_only(), py::arg("organisation_cvr") = py::none(), py::arg("mailbox") = py::none(),
          py::arg("status") = py::none(), py::arg("not_after_before") = py::none(),
          py::arg("not_after_from") = py::none(), "How many certificates match the filters.")
      .def(
          "expiring_before",
          [](const PyStore& self, const py::object& t) {
            const auto store = self.get();
            const CertificateQuery q = CertificateQuery::expiring_before(from_datetime(t, "t"));
            py::gil_scoped_release unlocked;
            return store->query(q);
          },
          py::arg("t"),
          "Active certificates whose validity ends before `t`, expired ones included: the renewal question.")
      .def(
          "current_bundle",
          [](const PyStore& self, const std::string& mailbox) -> std::unique_ptr<Pkcs12Bundle> {
            const auto store = self.get();
            std::optional<UnsealedBundle> current;
            {
              py::gil_scoped_release unlocked;
              current = store->current_bundle(mailbox);
            }
            if (!current) return nullptr;
            return std::make_unique<Pkcs12Bundle>(std::move(current->bundle));
          },
          py::arg("mailbox"),
          "The active certificate of a mailbox, unsealed and opened; None when it has none. "
          "NotFoundError for an unknown mailbox.")
      .def(
          "current_key_uri",
          [](const PyStore& self, const std::string& mailbox) -> std::optional<std::string> {
            const auto store = self.get();
            py::gil_scoped_release unlocked;
            auto current = store->current_bundle(mailbox);
            if (!current) throw Error(ErrorCode::not_found, "the mailbox has no active certificate");
            return current->key_uri;
          },
          py::arg("mailbox"),
          "The pkcs11: URI of the private key of a mailbox's current certificate when the key is on a token "
          "(sign and decrypt with Token), else None (the key is in current_bundle()).")
      .def(
          "import_to_token",
          [](const PyStore& self, const std::string& fingerprint, const token::Token& t) {
            const auto store = self.get();
            TokenKeyRecord r;
            {
              py::gil_scoped_release unlocked;
              r = store->import_to_token(fingerprint, t);
            }
            py::dict d;
            d["fingerprint"] = r.fingerprint;
            d["token"] = r.token_uri;
            d["key"] = r.key_uri;
            d["certificate"] = r.certificate_uri;
            d["id"] = r.object_id;
            d["created"] = r.created;
            return d;
          },
          py::arg("fingerprint"), py::arg("token"),
          "Puts a stored certificate's private key (sensitive, not extractable), public key and certificate on "
          "the token and records it; idempotent ('created' is 0 when all were there).")
      .def(
          "copy_to",
          [](const PyStore& self, const std::string& location) {
            const auto store = self.get();
            StoreOptions to;
            to.location = location;
            CopyResult r;
            {
              py::gil_scoped_release unlocked;
              r = store->copy_to(to);
            }
            py::dict tables;
            for (const CopiedTable& t : r.tables) tables[py::str(t.name)] = t.rows;
            py::dict out;
            out["destination"] = r.destination;
            out["certificates"] = r.certificates;
            out["fingerprint_digest"] = r.fingerprint_digest;
            out["tables"] = tables;
            return out;
          },
          py::arg("location"),
          "Copies the whole store to a new store at `location` (a path, 'sqlite:PATH' or another backend's "
          "location), sealed secrets as they are: the copy opens with this store's master key. All or nothing. "
          "Returns {'destination', 'certificates', 'fingerprint_digest', 'tables': {name: rows}}. ConflictError "
          "when a store exists there.")
      .def("close", &PyStore::close, "Closes the store; later calls raise InvalidArgumentError.")
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](PyStore& self, const py::args&) { self.close(); })
      .def("__repr__", [](const PyStore& s) {
        return "<Store " + repr_text(s.path()) + (s.closed() ? " closed" : "") + ">";
      });
}

}  // namespace dpgcert::python
