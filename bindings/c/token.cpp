// The C API of PKCS#11 tokens: open a token, sign and decrypt with a key on it, put a stored
// certificate's key there, and the current certificate's key reference.
#include "c_api.hpp"

using namespace dpgcert;
using namespace dpgcert::capi;

namespace {

token::SignScheme sign_scheme(int scheme) {
  switch (scheme) {
    case DPGCERT_SIGN_RSA_PKCS1V15_SHA256: return token::SignScheme::rsa_pkcs1v15_sha256;
    case DPGCERT_SIGN_RSA_PSS_SHA256: return token::SignScheme::rsa_pss_sha256;
    default: throw Error(ErrorCode::invalid_argument, "unknown signature scheme " + std::to_string(scheme));
  }
}

token::DecryptScheme decrypt_scheme(int scheme) {
  switch (scheme) {
    case DPGCERT_DECRYPT_RSA_OAEP_SHA256: return token::DecryptScheme::rsa_oaep_sha256;
    case DPGCERT_DECRYPT_RSA_OAEP_SHA1: return token::DecryptScheme::rsa_oaep_sha1;
    case DPGCERT_DECRYPT_RSA_PKCS1V15: return token::DecryptScheme::rsa_pkcs1v15;
    default: throw Error(ErrorCode::invalid_argument, "unknown decryption scheme " + std::to_string(scheme));
  }
}

}  // namespace

extern "C" {

int dpgcert_token_open(dpgcert_token** out, const char* uri, const dpgcert_token_options* options) {
  return guarded(__func__, [&] {
    reset_out(out);
    const token::TokenUri parsed = token::TokenUri::parse(in_text(uri, "uri"));
    token::PinSource pin;
    if (options != nullptr) {
      check_version(options->version, DPGCERT_TOKEN_OPTIONS_VERSION, "dpgcert_token_options");
      if (options->pin != nullptr) pin.pin = in_password(options->pin, options->pin_len, "pin");
    }
    return make_handle(out, token::Token::open(parsed, pin));
  });
}

void dpgcert_token_free(dpgcert_token* token) { delete token; }

int dpgcert_token_sign(const dpgcert_token* token, const char* key_uri, int scheme, const uint8_t* message,
                       size_t message_len, uint8_t* sig, size_t* sig_len) {
  return guarded(__func__, [&] {
    require(token, "token");
    const token::TokenUri key = token::TokenUri::parse(in_text(key_uri, "key_uri"));
    const auto s = sign_scheme(scheme);
    return out_bytes(token->token.sign(key, in_bytes(message, message_len, "message"), s), sig, sig_len);
  });
}

int dpgcert_token_decrypt(const dpgcert_token* token, const char* key_uri, int scheme, const uint8_t* ciphertext,
                          size_t ciphertext_len, uint8_t* out, size_t* out_len) {
  return guarded(__func__, [&] {
    require(token, "token");
    const token::TokenUri key = token::TokenUri::parse(in_text(key_uri, "key_uri"));
    const auto s = decrypt_scheme(scheme);
    const SecretBytes plain = token->token.decrypt(key, in_bytes(ciphertext, ciphertext_len, "ciphertext"), s);
    return out_bytes(plain.bytes(), out, out_len);
  });
}

int dpgcert_store_import_to_token(const dpgcert_store* store, const char* fingerprint, const dpgcert_token* token,
                                  size_t* created) {
  return guarded(__func__, [&] {
    require(store, "store");
    require(token, "token");
    const TokenKeyRecord r = store->store->import_to_token(in_text(fingerprint, "fingerprint"), token->token);
    if (created != nullptr) *created = r.created;
    return static_cast<int>(DPGCERT_OK);
  });
}

int dpgcert_store_current_key_uri(const dpgcert_store* store, const char* mailbox, char* buf, size_t* len) {
  return guarded(__func__, [&] {
    require(store, "store");
    const std::optional<UnsealedBundle> current = store->store->current_bundle(in_text(mailbox, "mailbox"));
    if (!current) throw Error(ErrorCode::not_found, "the mailbox has no active certificate");
    return out_text(current->key_uri.value_or(""), buf, len);
  });
}

}  // extern "C"
