#!/usr/bin/env bash
# Installs every Debian package Tidewatch needs to build, test and run its sandbox
# and its local Kafka broker (tools/kafka/tidewatch-kafka: Java, Maven, kcat), and the
# dashboard's browser tests (headless Chromium under Selenium), and what orchestrator's own
# client needs in the compatibility tests (curl, jq) and orchestrator itself (libsqlite3-0),
# and MariaDB's test suite data, whose binlogs of old servers the decoder's tests read.
# Idempotent: installs only what is missing.
set -euo pipefail
pkgs=(
  build-essential cmake ninja-build pkg-config git python3
  clang libclang-rt-14-dev
  libboost-dev libmariadb-dev librdkafka-dev libcurl4-openssl-dev libprotobuf-dev protobuf-compiler
  libgtest-dev libgmock-dev libbenchmark-dev libzstd-dev libisal-dev libre2-dev libssl-dev
  libsqlite3-dev libcli11-dev nlohmann-json3-dev libspdlog-dev libfmt-dev zlib1g-dev openssl libsodium-dev
  libjemalloc-dev
  mariadb-server mariadb-client mariadb-test-data
  openjdk-17-jre-headless maven kcat python3-confluent-kafka python3-protobuf
  chromium chromium-driver python3-selenium
  curl jq libsqlite3-0
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The packaged server starts a system instance on install; Tidewatch's sandbox runs its own.
if command -v systemctl >/dev/null 2>&1; then systemctl disable --now mariadb >/dev/null 2>&1 || true; fi
