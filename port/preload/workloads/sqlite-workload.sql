-- SPDX-License-Identifier: MIT
-- sqlite3 workload of port/preload/test-preload.sh: 20000 rows of
-- pseudo-random text and blobs (an LCG in a recursive CTE, so every run
-- prints the same), indexes, aggregates, a self join, a big group_concat,
-- digests of the whole table, a delete of half the rows and a VACUUM.
-- A 64 MiB page cache and in-memory temp storage keep SQLite's memory in
-- malloc.  The printed results must be the same with and without the
-- preload library; 'rows|20000|' and 'after delete|10000|' are also checked.
PRAGMA cache_size = -65536;
PRAGMA temp_store = MEMORY;
PRAGMA journal_mode = WAL;
PRAGMA synchronous = OFF;
CREATE TABLE t(id INTEGER PRIMARY KEY, k INTEGER, s TEXT, b BLOB);
WITH RECURSIVE g(i, x) AS (
  SELECT 1, 12345
  UNION ALL
  SELECT i + 1, (x * 1103515245 + 12345) % 2147483648 FROM g WHERE i < 20000)
INSERT INTO t
  SELECT i, x % 1000,
         printf('%d:%s', x, replace(hex(zeroblob((x >> 4) % 200)), '00',
                                    substr('abcdefghijklmnopqrstuvwxyz', x % 26 + 1, 2))),
         CAST(replace(hex(zeroblob((x >> 12) % 800)), '0', char(33 + (x >> 7) % 90)) AS BLOB)
  FROM g;
SELECT 'rows', count(*), sum(k), sum(length(s)), sum(length(b)) FROM t;
CREATE INDEX t_s ON t(s);
CREATE INDEX t_kb ON t(k, b);
SELECT 'groups', k % 10, count(*), sum(length(s)), substr(max(s), 1, 16) FROM t GROUP BY k % 10 ORDER BY 2;
SELECT 'top', id, k, length(b) FROM t ORDER BY b DESC, id LIMIT 5;
SELECT 'join', count(*) FROM t a JOIN t b ON a.k = b.k AND a.id < b.id;
SELECT 'concat', length(group_concat(s, ',')), hex(sha3(group_concat(s, ','))) FROM (SELECT s FROM t ORDER BY s);
SELECT 'digest', hex(sha3_query('SELECT * FROM t ORDER BY id'));
DELETE FROM t WHERE id % 2 = 0;
SELECT 'after delete', count(*), sum(k) FROM t;
VACUUM;
PRAGMA integrity_check;
SELECT 'digest', hex(sha3_query('SELECT * FROM t ORDER BY s, id'));
