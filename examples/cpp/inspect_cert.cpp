// Prints the subject, expiry and fingerprint of each certificate in a PEM or DER file.
// Build against an installed dpgcert with CMake (CMakeLists.txt here) or pkg-config:
//   c++ -std=c++20 inspect_cert.cpp $(pkg-config --cflags --libs dpgcert)
#include <dpgcert/error.hpp>
#include <dpgcert/x509.hpp>

#include <fstream>
#include <iostream>
#include <iterator>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: inspect_cert FILE\n";
    return 64;
  }
  std::ifstream in(argv[1], std::ios::binary);
  const std::vector<char> raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  try {
    for (const auto& cert : dpgcert::load_certificates(std::as_bytes(std::span(raw)))) {
      std::cout << cert.subject().to_string() << '\n'
                << "  expires " << dpgcert::format_rfc3339(cert.not_after()) << '\n'
                << "  sha256  " << cert.fingerprint_hex() << '\n';
    }
  } catch (const dpgcert::Error& e) {
    std::cerr << "error (" << dpgcert::to_string(e.code()) << "): " << e.what() << '\n';
    return 3;
  }
  return 0;
}
