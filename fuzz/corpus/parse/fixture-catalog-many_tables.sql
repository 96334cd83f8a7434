-- Benchmark schema for "catalog snapshot time on a database with 1,000 tables and 3,000
-- indexes": 1,000 tables, each with a primary key and two secondary indexes (one of them
-- partial), and a foreign key to the previous table (999 FKs, none covered by an index).
-- Runnable with `psql -f` as well as by the test harness.
--
-- Built in batches of 100 tables, each its own transaction: creating every table in one
-- transaction would hold ~4,000 relation locks at once and can exhaust the lock table
-- (max_locks_per_transaction × max_connections) on a default-configured server.

CREATE FUNCTION migsafe_bench_tables(first_table int, last_table int) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN first_table..last_table LOOP
        EXECUTE format(
            'CREATE TABLE bench_%s (
                 id bigint PRIMARY KEY,
                 parent_id bigint,
                 account_id bigint NOT NULL,
                 created_at timestamptz NOT NULL DEFAULT now(),
                 state smallint NOT NULL DEFAULT 0
             )', i);
        EXECUTE format('CREATE INDEX bench_%s_account_idx ON bench_%s (account_id, created_at)', i, i);
        EXECUTE format('CREATE INDEX bench_%s_pending_idx ON bench_%s (created_at) WHERE state = 0', i, i);
        IF i > 1 THEN
            EXECUTE format(
                'ALTER TABLE bench_%s ADD CONSTRAINT bench_%s_parent_fkey
                     FOREIGN KEY (parent_id) REFERENCES bench_%s (id)', i, i, i - 1);
        END IF;
    END LOOP;
END
$$;

-- batch
SELECT migsafe_bench_tables(1, 100);
-- batch
SELECT migsafe_bench_tables(101, 200);
-- batch
SELECT migsafe_bench_tables(201, 300);
-- batch
SELECT migsafe_bench_tables(301, 400);
-- batch
SELECT migsafe_bench_tables(401, 500);
-- batch
SELECT migsafe_bench_tables(501, 600);
-- batch
SELECT migsafe_bench_tables(601, 700);
-- batch
SELECT migsafe_bench_tables(701, 800);
-- batch
SELECT migsafe_bench_tables(801, 900);
-- batch
SELECT migsafe_bench_tables(901, 1000);
-- batch
DROP FUNCTION migsafe_bench_tables(int, int);
