// The token layer of the _dpgcert module: Token (a logged-in session with a PKCS#11 token), signing
// and decrypting with a key that never leaves it. See docs/tokens.md.
#include "module.hpp"

#include <dpgcert/token.hpp>

namespace dpgcert::python {
namespace {

token::SignScheme sign_scheme(const std::string& s) {
  if (s == "pkcs1v15-sha256") return token::SignScheme::rsa_pkcs1v15_sha256;
  if (s == "pss-sha256") return token::SignScheme::rsa_pss_sha256;
  throw Error(ErrorCode::invalid_argument, "scheme must be 'pkcs1v15-sha256' or 'pss-sha256', not '" + s + "'");
}

token::DecryptScheme decrypt_scheme(const std::string& s) {
  if (s == "oaep-sha256") return token::DecryptScheme::rsa_oaep_sha256;
  if (s == "oaep-sha1") return token::DecryptScheme::rsa_oaep_sha1;
  if (s == "pkcs1v15") return token::DecryptScheme::rsa_pkcs1v15;
  throw Error(ErrorCode::invalid_argument,
              "scheme must be 'oaep-sha256', 'oaep-sha1' or 'pkcs1v15', not '" + s + "'");
}

}  // namespace

void bind_token(py::module_& m) {
  py::class_<token::Token>(m, "Token", "A logged-in session with a PKCS#11 token (HSM, smart card, SoftHSM2).")
      .def_static(
          "open",
          [](const std::string& uri, const py::object& pin) {
            const token::TokenUri parsed = token::TokenUri::parse(uri);
            token::PinSource source;
            if (!pin.is_none()) source.pin = password_from(pin, "pin");
            py::gil_scoped_release unlocked;
            return token::Token::open(parsed, source);
          },
          py::arg("uri"), py::arg("pin") = py::none(),
          "Opens the token a pkcs11: URI names (token= or serial=) and logs in with `pin` (bytes or str). "
          "BadPasswordError for a wrong PIN, LockedError for a locked one, NotFoundError for no such token.")
      .def_property_readonly("label", [](const token::Token& t) { return t.info().label; })
      .def_property_readonly("serial", [](const token::Token& t) { return t.info().serial; })
      .def_property_readonly("uri", [](const token::Token& t) { return t.info().uri; })
      .def(
          "sign",
          [](const token::Token& t, const std::string& key_uri, const py::object& data, const std::string& scheme) {
            const token::TokenUri key = token::TokenUri::parse(key_uri);
            const auto s = sign_scheme(scheme);
            const Buffer b(data, "data");
            std::vector<std::byte> sig;
            {
              py::gil_scoped_release unlocked;
              sig = t.sign(key, b.bytes(), s);
            }
            return to_bytes(sig);
          },
          py::arg("key_uri"), py::arg("data"), py::arg("scheme") = "pkcs1v15-sha256",
          "Signs `data` (SHA-256 here, RSA in the token) with the private key `key_uri` names; scheme "
          "'pkcs1v15-sha256' or 'pss-sha256' (MGF1-SHA-256, 32-byte salt).")
      .def(
          "decrypt",
          [](const token::Token& t, const std::string& key_uri, const py::object& data, const std::string& scheme) {
            const token::TokenUri key = token::TokenUri::parse(key_uri);
            const auto s = decrypt_scheme(scheme);
            const Buffer b(data, "ciphertext");
            SecretBytes plain;
            {
              py::gil_scoped_release unlocked;
              plain = t.decrypt(key, b.bytes(), s);
            }
            return to_bytes(plain.bytes());
          },
          py::arg("key_uri"), py::arg("ciphertext"), py::arg("scheme") = "oaep-sha256",
          "Decrypts in the token with the private key `key_uri` names; scheme 'oaep-sha256', 'oaep-sha1' or "
          "'pkcs1v15'. BadPasswordError when the ciphertext does not decrypt under the key with this scheme.")
      .def("__repr__", [](const token::Token& t) {
        return "<Token label=" + repr_text(t.info().label) + " serial=" + repr_text(t.info().serial) + ">";
      });
}

}  // namespace dpgcert::python
