// dpgcert._dpgcert: the compiled half of the Python package (pybind11). Conversion only: every
// decision is the C++ library's. The `dpgcert` package re-exports this module; its stubs are in
// dpgcert/_dpgcert.pyi and docs/python.md describes the API.
//
// Conventions:
// - Times are timezone-aware UTC datetimes, converted here by hand (never pybind11/chrono.h,
//   which makes naive local times); naive datetimes passed in are refused with ValueError.
// - Bytes come in through the buffer protocol (bytes, bytearray, memoryview) and are read while
//   the buffer is held, so they may be read with the GIL released.
// - Passwords are bytes-like or str (encoded as UTF-8) and are copied straight into SecretBytes.
// - The GIL is released around key derivation (PKCS#12 loading), validation and all store work.
// - dpgcert::Error becomes a dpgcert.Error subclass chosen by its code, with `.code` set.

#include "module.hpp"

PYBIND11_MODULE(_dpgcert, m) {
  m.doc() = "The compiled half of the dpgcert package; import dpgcert instead.";
  m.attr("__version__") = DPGCERT_VERSION_STRING;
  using namespace dpgcert::python;
  bind_core(m);
  bind_oces(m);
  bind_x509(m);
  bind_pkcs12(m);
  bind_validation(m);
  bind_token(m);
  bind_store(m);
  bind_inventory(m);
  bind_lifecycle(m);
  bind_changes(m);
}
