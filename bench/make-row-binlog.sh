#!/usr/bin/env bash
# Makes a ROW-heavy binlog of at least MB megabytes (default 100) with a real
# MariaDB server from the sandbox: small single-row transactions (GTID,
# TABLE_MAP, WRITE/UPDATE_ROWS, XID), average event about 64 bytes.
# Prints the path of the copied binlog.
#   bench/make-row-binlog.sh [MB] [OUT]
set -euo pipefail
cd "$(dirname "$0")/.."
mb=${1:-100}
out=${2:-/tmp/tidewatch-bench/row-heavy-${mb}MB.bin}
mkdir -p "$(dirname "$out")"
export TIDEWATCH_SANDBOX_DIR=$(mktemp -d /tmp/tidewatch-benchgen.XXXXXX)
sandbox="python3 tools/sandbox/tidewatch-sandbox"
trap '$sandbox down >/dev/null 2>&1 || true' EXIT
$sandbox up --base-port 25306 --pseudo-gtid-interval 0 'b' >&2
$sandbox sql b "SET GLOBAL innodb_flush_log_at_trx_commit=0, GLOBAL max_binlog_size=1073741824" >/dev/null
$sandbox sql b - >/dev/null <<'SQL'
CREATE DATABASE IF NOT EXISTS bench;
CREATE TABLE bench.t (id INT PRIMARY KEY, v INT, c VARCHAR(32)) ENGINE=InnoDB;
DELIMITER //
CREATE PROCEDURE bench.fill(first INT, n INT)
BEGIN
  DECLARE i INT DEFAULT first;
  SET SESSION binlog_annotate_row_events = OFF;
  WHILE i < first + n DO
    START TRANSACTION;
    INSERT INTO bench.t VALUES (i, i, 'tidewatch-row-payload');
    UPDATE bench.t SET v = v + 1 WHERE id = i;
    COMMIT;
    SET i = i + 1;
  END WHILE;
END //
DELIMITER ;
SQL
file=$($sandbox binlogs b | tail -n 1)
batch=100000 start=0
while [ "$(stat -c %s "$file")" -lt $((mb * 1000 * 1000)) ]; do
  $sandbox sql b "CALL bench.fill($start, $batch)" >/dev/null
  start=$((start + batch))
  echo "  $(($(stat -c %s "$file") / 1000000)) MB" >&2
done
$sandbox sql b "FLUSH BINARY LOGS" >/dev/null
cp "$file" "$out"
echo "$out"
