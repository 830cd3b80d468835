// C API: the inventory store: open/create, import, queries, the gateway's current bundle.
#include "c_api.hpp"

#include <dpgcert/time.hpp>
#include <dpgcert/vault.hpp>

using namespace dpgcert;
using namespace dpgcert::capi;

namespace {

StoreOptions store_options(const char* path, const dpgcert_store_options* o) {
  StoreOptions so;
  so.path = std::string(in_text(path, "path"));
  if (o == nullptr) return so;
  check_version(o->version, DPGCERT_STORE_OPTIONS_VERSION, "dpgcert_store_options");
  if (o->key_file != nullptr) so.unlock.key_file = std::string(o->key_file);
  if (o->passphrase != nullptr || o->passphrase_len != 0) {
    so.unlock.passphrase = in_password(o->passphrase, o->passphrase_len, "passphrase");
  }
  if (o->actor != nullptr) so.actor = o->actor;
  if (o->now != 0) so.clock = std::make_shared<FixedClock>(from_unix(o->now));
  return so;
}

vault::KeySource key_source(const dpgcert_store_options* o) {
  if (o != nullptr && o->passphrase != nullptr) {
    vault::Argon2Params params = vault::Argon2Params::defaults();
    if (o->argon2_memory_kib != 0) params.memory_kib = o->argon2_memory_kib;
    if (o->argon2_iterations != 0) params.iterations = o->argon2_iterations;
    if (o->argon2_parallelism != 0) params.parallelism = o->argon2_parallelism;
    return vault::KeySource::passphrase(in_password(o->passphrase, o->passphrase_len, "passphrase"), params);
  }
  if (o != nullptr && o->key_file != nullptr) return vault::KeySource::key_file(std::string(o->key_file));
  throw Error(ErrorCode::invalid_argument, "a new store needs options->key_file or options->passphrase");
}

/// The ImportOptions a C options struct describes (NULL: the defaults).
ImportOptions import_options(const dpgcert_import_options* options) {
  ImportOptions io;
  if (options == nullptr) return io;
  check_version(options->version, DPGCERT_IMPORT_OPTIONS_VERSION, "dpgcert_import_options");
  if (options->organisation_cvr != nullptr) io.organisation_cvr = std::string(options->organisation_cvr);
  if (options->mailbox != nullptr) io.mailbox = std::string(options->mailbox);
  io.force = options->force != 0;
  if (options->actor != nullptr) io.actor = options->actor;
  if (options->source != nullptr) io.source = options->source;
  if (options->validation != nullptr) io.validation = validation_input(options->validation);
  return io;
}

CertificateQuery certificate_query(const dpgcert_query* q) {
  CertificateQuery cq;
  if (q == nullptr) return cq;
  check_version(q->version, DPGCERT_QUERY_VERSION, "dpgcert_query");
  if (q->organisation_cvr != nullptr) cq.organisation_cvr = std::string(q->organisation_cvr);
  if (q->mailbox != nullptr) cq.mailbox = std::string(q->mailbox);
  if (q->status != DPGCERT_STATUS_ANY) cq.status = certificate_status_from_c(q->status);
  if (q->not_after_before != DPGCERT_NO_TIME) cq.not_after_before = from_unix(q->not_after_before);
  if (q->not_after_from != DPGCERT_NO_TIME) cq.not_after_from = from_unix(q->not_after_from);
  cq.limit = q->limit;
  cq.offset = q->offset;
  return cq;
}

const CertificateSummary& row_at(const dpgcert_summary_list* list, std::size_t index) {
  require(list, "list");
  check_index(index, list->rows.size());
  return list->rows[index];
}

}  // namespace

extern "C" {

int dpgcert_store_create(dpgcert_store** out, const char* path, const dpgcert_store_options* options) {
  return guarded(__func__, [&] {
    reset_out(out);
    StoreOptions so = store_options(path, options);
    const vault::KeySource key = key_source(options);
    return make_handle(out, Store::create(std::move(so), key));
  });
}

int dpgcert_store_open(dpgcert_store** out, const char* path, const dpgcert_store_options* options) {
  return guarded(__func__, [&] {
    reset_out(out);
    return make_handle(out, Store::open(store_options(path, options)));
  });
}

void dpgcert_store_free(dpgcert_store* store) { delete store; }

int dpgcert_store_copy(const dpgcert_store* store, const char* location, size_t* certificates) {
  return guarded(__func__, [&] {
    require(store, "store");
    require(location, "location");
    StoreOptions to;
    to.location = location;
    const CopyResult r = store->store->copy_to(to);
    if (certificates != nullptr) *certificates = r.certificates;
    return DPGCERT_OK;
  });
}

int dpgcert_store_import(dpgcert_import_result** out, dpgcert_store* store, const uint8_t* pkcs12, size_t len,
                         const uint8_t* password, size_t password_len, const dpgcert_import_options* options) {
  return guarded(__func__, [&] {
    reset_out(out);
    require(store, "store");
    const auto bytes = in_bytes(pkcs12, len, "pkcs12");
    const SecretBytes pw = in_password(password, password_len, "password");
    const ImportOptions io = import_options(options);
    const Pkcs12Bundle bundle = load_pkcs12(bytes, pw);
    return make_handle(out, store->store->import(bundle, bytes, pw, io));
  });
}

void dpgcert_import_result_free(dpgcert_import_result* result) { delete result; }

int dpgcert_store_import_files(dpgcert_bulk_result** out, dpgcert_store* store, const dpgcert_bulk_item* items,
                               size_t count, const dpgcert_bulk_options* options) {
  return guarded(__func__, [&] {
    reset_out(out);
    require(store, "store");
    if (count > 0) require(items, "items");
    BulkImportOptions bo;
    if (options != nullptr) {
      check_version(options->version, DPGCERT_BULK_OPTIONS_VERSION, "dpgcert_bulk_options");
      bo.threads = options->threads;
      bo.defaults = import_options(options->defaults);  // its source is replaced by each file's path
      if (options->progress != nullptr) {
        const dpgcert_bulk_progress progress = options->progress;
        void* const payload = options->payload;
        bo.progress = [progress, payload](std::size_t done, std::size_t total, const BulkImportResult& r) {
          progress(done, total, r.index, payload);
        };
      }
    }
    std::vector<BulkImportItem> list;
    list.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
      const dpgcert_bulk_item& item = items[i];
      const std::string which = "items[" + std::to_string(i) + "]";
      require(item.path, (which + ".path").c_str());
      BulkImportItem b;
      b.path = item.path;
      b.password = in_password(item.password, item.password_len, (which + ".password").c_str());
      if (item.organisation_cvr != nullptr) b.organisation_cvr = std::string(item.organisation_cvr);
      if (item.mailbox != nullptr) b.mailbox = std::string(item.mailbox);
      list.push_back(std::move(b));
    }
    return make_handle(out, import_files(*store->store, std::move(list), bo));
  });
}

void dpgcert_bulk_result_free(dpgcert_bulk_result* result) { delete result; }

int dpgcert_bulk_result_count(const dpgcert_bulk_result* result, size_t* count) {
  return guarded(__func__, [&] {
    require(result, "result");
    return out_value(count, result->results.size(), "count");
  });
}

int dpgcert_bulk_result_error(const dpgcert_bulk_result* result, size_t index, int* error) {
  return guarded(__func__, [&] {
    require(result, "result");
    check_index(index, result->results.size());
    const auto& e = result->results[index].error;
    return out_value(error, e ? c_code(*e) : DPGCERT_OK, "error");
  });
}

int dpgcert_bulk_result_message(const dpgcert_bulk_result* result, size_t index, char* buf, size_t* len) {
  return guarded(__func__, [&] {
    require(result, "result");
    check_index(index, result->results.size());
    const auto& e = result->results[index].error;
    if (!e) throw Error(ErrorCode::not_found, "the file has no error");
    return out_text(e->what(), buf, len);
  });
}

int dpgcert_bulk_result_import(dpgcert_import_result** out, const dpgcert_bulk_result* result, size_t index) {
  return guarded(__func__, [&] {
    reset_out(out);
    require(result, "result");
    check_index(index, result->results.size());
    const auto& r = result->results[index].import;
    if (!r) throw Error(ErrorCode::not_found, "the file did not reach the store (dpgcert_bulk_result_error says why)");
    return make_handle(out, *r);
  });
}

int dpgcert_import_result_outcome(const dpgcert_import_result* result, int* out) {
  return guarded(__func__, [&] {
    require(result, "result");
    return out_value(out, to_c(result->result.outcome));
  });
}

int dpgcert_import_result_fingerprint(const dpgcert_import_result* result, char* buf, size_t* len) {
  return guarded(__func__, [&] {
    require(result, "result");
    return out_text(result->result.fingerprint, buf, len);
  });
}

int dpgcert_import_result_report(dpgcert_report** out, const dpgcert_import_result* result) {
  return guarded(__func__, [&] {
    reset_out(out);
    require(result, "result");
    if (!result->result.report) {
      throw Error(ErrorCode::not_found, "the certificate was already in the store, so it was not validated again");
    }
    return make_handle(out, *result->result.report);
  });
}

int dpgcert_import_result_superseded_count(const dpgcert_import_result* result, size_t* count) {
  return guarded(__func__, [&] {
    require(result, "result");
    return out_value(count, result->result.superseded.size(), "count");
  });
}

int dpgcert_import_result_superseded(const dpgcert_import_result* result, size_t index, char* buf, size_t* len) {
  return guarded(__func__, [&] {
    require(result, "result");
    check_index(index, result->result.superseded.size());
    return out_text(result->result.superseded[index], buf, len);
  });
}

int dpgcert_store_query(dpgcert_summary_list** out, const dpgcert_store* store, const dpgcert_query* query) {
  return guarded(__func__, [&] {
    reset_out(out);
    require(store, "store");
    return make_handle(out, store->store->query(certificate_query(query)));
  });
}

int dpgcert_store_count(const dpgcert_store* store, const dpgcert_query* query, size_t* count) {
  return guarded(__func__, [&] {
    require(store, "store");
    require(count, "count");
    return out_value(count, store->store->count(certificate_query(query)), "count");
  });
}

void dpgcert_summary_list_free(dpgcert_summary_list* list) { delete list; }

int dpgcert_summary_list_count(const dpgcert_summary_list* list, size_t* count) {
  return guarded(__func__, [&] {
    require(list, "list");
    return out_value(count, list->rows.size(), "count");
  });
}

int dpgcert_summary_list_int(const dpgcert_summary_list* list, size_t index, int field, int64_t* out) {
  return guarded(__func__, [&] {
    const CertificateSummary& s = row_at(list, index);
    switch (field) {
      case DPGCERT_SUMMARY_ID: return out_value(out, s.id);
      case DPGCERT_SUMMARY_STATUS: return out_value(out, to_c(s.status));
      case DPGCERT_SUMMARY_NOT_BEFORE: return out_value(out, to_unix(s.not_before));
      case DPGCERT_SUMMARY_NOT_AFTER: return out_value(out, to_unix(s.not_after));
      case DPGCERT_SUMMARY_GENERATION: return out_value(out, to_c(s.generation));
      case DPGCERT_SUMMARY_TYPE: return out_value(out, to_c(s.type));
      case DPGCERT_SUMMARY_ENVIRONMENT: return out_value(out, to_c(s.environment));
      default: throw Error(ErrorCode::invalid_argument, "field " + std::to_string(field) + " is not an integer field");
    }
  });
}

int dpgcert_summary_list_text(const dpgcert_summary_list* list, size_t index, int field, char* buf, size_t* len) {
  return guarded(__func__, [&] {
    const CertificateSummary& s = row_at(list, index);
    switch (field) {
      case DPGCERT_SUMMARY_FINGERPRINT: return out_text(s.fingerprint, buf, len);
      case DPGCERT_SUMMARY_ORGANISATION_CVR: return out_text(present(s.organisation_cvr, "organisation"), buf, len);
      case DPGCERT_SUMMARY_MAILBOX: return out_text(present(s.mailbox, "mailbox"), buf, len);
      case DPGCERT_SUMMARY_CVR: return out_text(present(s.cvr, "CVR in the certificate"), buf, len);
      case DPGCERT_SUMMARY_OCES_ID: return out_text(present(s.oces_id, "OCES id"), buf, len);
      case DPGCERT_SUMMARY_COMMON_NAME: return out_text(present(s.common_name, "common name"), buf, len);
      default: throw Error(ErrorCode::invalid_argument, "field " + std::to_string(field) + " is not a text field");
    }
  });
}

int dpgcert_store_current_bundle(dpgcert_pkcs12** out, const dpgcert_store* store, const char* mailbox) {
  return guarded(__func__, [&] {
    reset_out(out);
    require(store, "store");
    std::optional<UnsealedBundle> current = store->store->current_bundle(in_text(mailbox, "mailbox"));
    if (!current) return static_cast<int>(DPGCERT_OK);  // the mailbox exists but has no active certificate: *out stays NULL
    return make_handle(out, std::move(current->bundle));
  });
}

}  // extern "C"
