// C API: certificates, certificate lists and OCES identities.
#include "c_api.hpp"

#include <dpgcert/json.hpp>
#include <dpgcert/oces_json.hpp>

#include <nlohmann/json.hpp>

using namespace dpgcert;
using namespace dpgcert::capi;

extern "C" {

int dpgcert_certificates_load(dpgcert_certificate_list** out, const uint8_t* data, size_t len) {
  return guarded(__func__, [&] {
    reset_out(out);
    auto certs = load_certificates(in_bytes(data, len, "data"));
    return make_handle(out, std::move(certs));
  });
}

void dpgcert_certificate_list_free(dpgcert_certificate_list* list) { delete list; }

int dpgcert_certificate_list_count(const dpgcert_certificate_list* list, size_t* count) {
  return guarded(__func__, [&] {
    require(list, "list");
    return out_value(count, list->certs.size(), "count");
  });
}

int dpgcert_certificate_list_get(dpgcert_certificate** out, const dpgcert_certificate_list* list, size_t index) {
  return guarded(__func__, [&] {
    reset_out(out);
    require(list, "list");
    check_index(index, list->certs.size());
    return make_handle(out, list->certs[index]);
  });
}

void dpgcert_certificate_free(dpgcert_certificate* cert) { delete cert; }

int dpgcert_certificate_der(const dpgcert_certificate* cert, uint8_t* buf, size_t* len) {
  return guarded(__func__, [&] {
    require(cert, "cert");
    return out_bytes(cert->cert.der(), buf, len);
  });
}

int dpgcert_certificate_pem(const dpgcert_certificate* cert, char* buf, size_t* len) {
  return guarded(__func__, [&] {
    require(cert, "cert");
    return out_text(cert->cert.to_pem(), buf, len);
  });
}

int dpgcert_certificate_subject(const dpgcert_certificate* cert, char* buf, size_t* len) {
  return guarded(__func__, [&] {
    require(cert, "cert");
    return out_text(cert->cert.subject().to_string(), buf, len);
  });
}

int dpgcert_certificate_issuer(const dpgcert_certificate* cert, char* buf, size_t* len) {
  return guarded(__func__, [&] {
    require(cert, "cert");
    return out_text(cert->cert.issuer().to_string(), buf, len);
  });
}

int dpgcert_certificate_serial(const dpgcert_certificate* cert, char* buf, size_t* len) {
  return guarded(__func__, [&] {
    require(cert, "cert");
    return out_text(cert->cert.serial_hex(), buf, len);
  });
}

int dpgcert_certificate_fingerprint(const dpgcert_certificate* cert, char* buf, size_t* len) {
  return guarded(__func__, [&] {
    require(cert, "cert");
    return out_text(cert->cert.fingerprint_hex(), buf, len);
  });
}

int dpgcert_certificate_not_before(const dpgcert_certificate* cert, int64_t* out) {
  return guarded(__func__, [&] {
    require(cert, "cert");
    return out_value(out, to_unix(cert->cert.not_before()));
  });
}

int dpgcert_certificate_not_after(const dpgcert_certificate* cert, int64_t* out) {
  return guarded(__func__, [&] {
    require(cert, "cert");
    return out_value(out, to_unix(cert->cert.not_after()));
  });
}

int dpgcert_certificate_json(const dpgcert_certificate* cert, char* buf, size_t* len) {
  return guarded(__func__, [&] {
    require(cert, "cert");
    // The same document the CLI prints for a certificate: to_json() plus the identity as "oces".
    nlohmann::json j = to_json(cert->cert);
    j["oces"] = oces::to_json(oces::identify(cert->cert));
    return out_text(j.dump(), buf, len);
  });
}

int dpgcert_certificate_identity(dpgcert_identity** out, const dpgcert_certificate* cert) {
  return guarded(__func__, [&] {
    reset_out(out);
    require(cert, "cert");
    return make_handle(out, oces::identify(cert->cert));
  });
}

void dpgcert_identity_free(dpgcert_identity* identity) { delete identity; }

int dpgcert_identity_int(const dpgcert_identity* identity, int field, int* out) {
  return guarded(__func__, [&] {
    require(identity, "identity");
    const oces::Identity& id = identity->identity;
    switch (field) {
      case DPGCERT_IDENTITY_GENERATION: return out_value(out, to_c(id.generation));
      case DPGCERT_IDENTITY_TYPE: return out_value(out, to_c(id.type));
      case DPGCERT_IDENTITY_ENVIRONMENT: return out_value(out, to_c(id.environment));
      case DPGCERT_IDENTITY_CVR_VALID:
        if (!id.cvr_valid) throw Error(ErrorCode::not_found, "there is no CVR, so no check digit to judge");
        return out_value(out, *id.cvr_valid ? 1 : 0);
      default: throw Error(ErrorCode::invalid_argument, "field " + std::to_string(field) + " is not an integer field");
    }
  });
}

int dpgcert_identity_text(const dpgcert_identity* identity, int field, char* buf, size_t* len) {
  return guarded(__func__, [&] {
    require(identity, "identity");
    const oces::Identity& id = identity->identity;
    switch (field) {
      case DPGCERT_IDENTITY_CVR: return out_text(present(id.cvr, "CVR"), buf, len);
      case DPGCERT_IDENTITY_ID: return out_text(present(id.id(), "OCES id"), buf, len);
      case DPGCERT_IDENTITY_UID: return out_text(present(id.uid, "UID"), buf, len);
      case DPGCERT_IDENTITY_FID: return out_text(present(id.fid, "FID"), buf, len);
      case DPGCERT_IDENTITY_RID: return out_text(present(id.rid, "RID"), buf, len);
      case DPGCERT_IDENTITY_PID: return out_text(present(id.pid, "PID"), buf, len);
      case DPGCERT_IDENTITY_UUID: return out_text(present(id.uuid, "UUID"), buf, len);
      case DPGCERT_IDENTITY_SUBJECT_SERIAL: return out_text(present(id.subject_serial, "subject serialNumber"), buf, len);
      case DPGCERT_IDENTITY_ORGANISATION: return out_text(present(id.organisation, "organisation"), buf, len);
      case DPGCERT_IDENTITY_COMMON_NAME: return out_text(present(id.common_name, "common name"), buf, len);
      case DPGCERT_IDENTITY_EMAIL: return out_text(present(id.email, "e-mail address"), buf, len);
      case DPGCERT_IDENTITY_ISSUING_CA: return out_text(present(id.issuing_ca, "known issuing CA"), buf, len);
      case DPGCERT_IDENTITY_SUMMARY: return out_text(oces::summary(id), buf, len);
      case DPGCERT_IDENTITY_JSON: return out_text(oces::to_json(id).dump(), buf, len);
      default: throw Error(ErrorCode::invalid_argument, "field " + std::to_string(field) + " is not a text field");
    }
  });
}

}  // extern "C"
