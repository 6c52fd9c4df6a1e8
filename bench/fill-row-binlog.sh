#!/usr/bin/env bash
# Fills the binlog of a running sandbox server ($TIDEWATCH_SANDBOX_DIR) with
# ROW events until its current binlog file holds at least MB megabytes: small
# transactions (GTID, TABLE_MAP, WRITE_ROWS, TABLE_MAP, UPDATE_ROWS, XID),
# average event about 55 bytes. Prints the file's path.
#   bench/fill-row-binlog.sh SERVER MB
set -euo pipefail
cd "$(dirname "$0")/.."
server=$1 mb=$2
sandbox="python3 tools/sandbox/tidewatch-sandbox"
$sandbox sql "$server" "SET GLOBAL innodb_flush_log_at_trx_commit=0, GLOBAL max_binlog_size=1073741824" >/dev/null
$sandbox sql "$server" - >/dev/null <<'SQL'
CREATE DATABASE IF NOT EXISTS bench;
CREATE TABLE IF NOT EXISTS bench.t (id INT PRIMARY KEY, v INT, c VARCHAR(32)) ENGINE=InnoDB;
DROP PROCEDURE IF EXISTS bench.fill;
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
file=$($sandbox binlogs "$server" | tail -n 1)
batch=100000
start=$($sandbox sql -N "$server" "SELECT COALESCE(MAX(id) + 1, 0) FROM bench.t")
while [ "$(stat -c %s "$file")" -lt $((mb * 1000 * 1000)) ]; do
  $sandbox sql "$server" "CALL bench.fill($start, $batch)" >/dev/null
  start=$((start + batch))
  echo "  $(($(stat -c %s "$file") / 1000000)) MB" >&2
done
echo "$file"
