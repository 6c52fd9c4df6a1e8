// TlsSettings: TLS to a MySQL/MariaDB server, in the terms of the MySQL
// clients' --ssl-mode, with the files orchestrator's MySQLTopologySSL*
// settings name.
#pragma once

#include <string>

namespace tidewatch {

enum class TlsMode {
  kDisabled,        // never
  kPreferred,       // when the server offers it, without verifying the certificate
  kRequired,        // always, without verifying the certificate
  kVerifyCa,        // always, the certificate signed by `ca`
  kVerifyIdentity,  // as kVerifyCa, and issued for the host connected to
};

struct TlsSettings {
  TlsMode mode = TlsMode::kPreferred;
  std::string ca;         // PEM file of the CA (empty: the system's CAs)
  std::string cert, key;  // PEM files of a client certificate and its key (mutual TLS); empty: none

  bool Verifies() const { return mode == TlsMode::kVerifyCa || mode == TlsMode::kVerifyIdentity; }
};

}  // namespace tidewatch
