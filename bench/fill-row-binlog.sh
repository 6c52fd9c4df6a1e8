#!/usr/bin/env bash
# Fills the binlog of a running sandbox server ($TIDEWATCH_SANDBOX_DIR) with
# ROW events until its current binlog file holds at least MB megabytes. Prints
# the file's path.
#   bench/fill-row-binlog.sh SERVER MB [ROWS]
# ROWS = 1 (the default): small transactions (GTID, TABLE_MAP, WRITE_ROWS,
# TABLE_MAP, UPDATE_ROWS, XID), average event about 55 bytes.
# ROWS > 1: each transaction inserts ROWS rows with one statement and updates
# them with another; the server splits each statement's rows into events of at
# most binlog_row_event_max_size (8 KiB by default), so nearly every event is
# a multi-row event of about 8 KB.
set -euo pipefail
cd "$(dirname "$0")/.."
server=$1 mb=$2 rows=${3:-1}
sandbox="python3 tools/sandbox/tidewatch-sandbox"
$sandbox sql "$server" "SET GLOBAL innodb_flush_log_at_trx_commit=0, GLOBAL max_binlog_size=1073741824" >/dev/null
$sandbox sql "$server" - >/dev/null <<'SQL'
CREATE DATABASE IF NOT EXISTS bench;
CREATE TABLE IF NOT EXISTS bench.t (id INT PRIMARY KEY, v INT, c VARCHAR(32)) ENGINE=InnoDB;
DROP PROCEDURE IF EXISTS bench.fill;
DROP PROCEDURE IF EXISTS bench.fill_multi;
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
CREATE PROCEDURE bench.fill_multi(first INT, transactions INT, per INT)
BEGIN
  DECLARE i INT DEFAULT first;
  SET SESSION binlog_annotate_row_events = OFF;
  WHILE i < first + transactions * per DO
    START TRANSACTION;
    INSERT INTO bench.t SELECT i + seq, i + seq, 'tidewatch-row-payload' FROM seq_0_to_1000000 WHERE seq < per;
    UPDATE bench.t SET v = v + 1 WHERE id >= i AND id < i + per;
    COMMIT;
    SET i = i + per;
  END WHILE;
END //
DELIMITER ;
SQL
file=$($sandbox binlogs "$server" | tail -n 1)
start=$($sandbox sql -N "$server" "SELECT COALESCE(MAX(id) + 1, 0) FROM bench.t")
while [ "$(stat -c %s "$file")" -lt $((mb * 1000 * 1000)) ]; do
  if [ "$rows" -le 1 ]; then
    $sandbox sql "$server" "CALL bench.fill($start, 100000)" >/dev/null
    start=$((start + 100000))
  else
    transactions=$(( (100000 + rows - 1) / rows ))
    $sandbox sql -D bench "$server" "CALL bench.fill_multi($start, $transactions, $rows)" >/dev/null
    start=$((start + transactions * rows))
  fi
  echo "  $(($(stat -c %s "$file") / 1000000)) MB" >&2
done
echo "$file"
