-- bluetrace PostgreSQL schema, version 2: `tempids` partitioned by day of expiry, so that
-- the retention drops whole days (DROP TABLE of a partition) instead of deleting rows one
-- by one (8 billion records at 4,400 TempIDs/s for 21 days).
--
-- A unique index of a partitioned table must hold the partition key, so the primary key is
-- (tempid, day) and no longer keeps a TempID unique on its own. Every insert goes through
-- bluetrace_insert_tempid() instead, which checks and inserts under a transaction-scoped
-- advisory lock on the TempID: the uniqueness holds across every server instance as long as
-- nothing inserts into `tempids` directly.
--
-- Privileges. This script runs as the role that owns the schema (the migration role). The
-- partition functions are SECURITY DEFINER (they run as that owner, with search_path pinned
-- to this schema), so the server's login role needs no ownership, only:
--   GRANT SELECT, INSERT ON tempids TO <server role>;
--   GRANT EXECUTE ON FUNCTION bluetrace_insert_tempid(bpchar, text, bigint, bigint),
--     bluetrace_ensure_tempid_partition(integer),
--     bluetrace_drop_tempid_partitions(integer) TO <server role>;
-- (Reads and inserts through the partitioned parent check the parent's privileges only.)
-- EXECUTE on the two SECURITY DEFINER functions is revoked from PUBLIC below: any role that
-- may call bluetrace_drop_tempid_partitions can drop TempIDs.

-- The advisory lock classes of this file (the two-int form of pg_advisory_xact_lock, whose
-- keys never meet the one-bigint keys of migrations and the audit trail):
--   1651796324 ("btid" in ASCII), key hashtext(tempid): one writer per TempID at a time;
--   1651798132 ("btpt"), key the day: one creator of a day's partition at a time;
--   1651795056 ("btdp"), key 0: one dropper of partitions at a time.

ALTER TABLE tempids RENAME TO tempids_v1;
ALTER INDEX tempids_pkey RENAME TO tempids_v1_pkey;
DROP INDEX tempids_expiry;  -- nothing reads by expiry any more: the retention drops days

-- Issued TempIDs, one partition per UTC day of expiry, named tempids_d<day> (day =
-- floor(expiry / 86400), the day number since 1970-01-01). The primary key's index on each
-- partition serves lookups by tempid (WHERE tempid = ANY(...) probes every partition's
-- index: about retention + 3 of them).
CREATE TABLE tempids (
  tempid char(20) NOT NULL,
  phone  text     NOT NULL,
  start  bigint   NOT NULL,
  expiry bigint   NOT NULL CHECK (expiry >= start),
  day    integer  NOT NULL CHECK (day = floor(expiry / 86400.0)),
  PRIMARY KEY (tempid, day)
) PARTITION BY RANGE (day);

-- Creates tempids_d<p_day> unless it exists. Creating a partition takes an ACCESS EXCLUSIVE
-- lock on `tempids` until the calling transaction ends, so a caller calls this before it
-- reads or writes `tempids` in its transaction (never after: that would be a lock upgrade,
-- and two such callers deadlock).
CREATE FUNCTION bluetrace_ensure_tempid_partition(p_day integer) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET client_min_messages = warning  -- no "already exists, skipping" notice to the caller
AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(1651798132, p_day);
  -- IF NOT EXISTS: another caller created it while this one waited for the lock.
  EXECUTE format('CREATE TABLE IF NOT EXISTS %I.%I PARTITION OF %I.tempids '
                 'FOR VALUES FROM (%s) TO (%s)',
                 current_schema(), 'tempids_d' || p_day, current_schema(), p_day,
                 p_day::bigint + 1);
END
$$;

-- Drops the partitions of the days before p_before_day and returns how many records they
-- held (bigint: several days can exceed an integer). Counts them all first, then drops them:
-- the drops take an ACCESS EXCLUSIVE lock on `tempids` until the end of the transaction,
-- so nothing slow may follow them. Partitions are found in the catalog by their name
-- (tempids_d<day>); anything else attached to `tempids` is left alone.
CREATE FUNCTION bluetrace_drop_tempid_partitions(p_before_day integer) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
AS $$
DECLARE
  parts regclass[];
  part regclass;
  n bigint;
  total bigint := 0;
BEGIN
  -- One dropper at a time; the catalog query below takes its snapshot after the lock, so
  -- it never lists a partition a concurrent dropper has just dropped.
  PERFORM pg_advisory_xact_lock(1651795056, 0);
  SELECT coalesce(array_agg(c.oid::regclass), '{}') INTO parts
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
   WHERE i.inhparent = 'tempids'::regclass
     AND c.relname ~ '^tempids_d-?[0-9]+$'
     AND substr(c.relname, 10)::integer < p_before_day;
  FOREACH part IN ARRAY parts LOOP
    EXECUTE format('SELECT count(*) FROM %s', part) INTO n;
    total := total + n;
  END LOOP;
  FOREACH part IN ARRAY parts LOOP
    EXECUTE format('DROP TABLE %s', part);
  END LOOP;
  RETURN total;
END
$$;

-- Pins the SECURITY DEFINER functions to this schema (then pg_temp, searched last, so no
-- temporary table can stand in for one of ours), and lets only granted roles call them.
DO $$
BEGIN
  EXECUTE format('ALTER FUNCTION bluetrace_ensure_tempid_partition(integer) '
                 'SET search_path = %I, pg_temp', current_schema());
  EXECUTE format('ALTER FUNCTION bluetrace_drop_tempid_partitions(integer) '
                 'SET search_path = %I, pg_temp', current_schema());
END
$$;
REVOKE EXECUTE ON FUNCTION bluetrace_ensure_tempid_partition(integer) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION bluetrace_drop_tempid_partitions(integer) FROM PUBLIC;

-- Records `p_tempid` unless any day's partition holds it: true when inserted. One
-- statement, so one round trip; the caller runs it autocommitted under READ COMMITTED.
--
-- Why this keeps TempIDs unique: every writer of a TempID holds the advisory lock of its
-- hash until its transaction ends, and the lock is released only after the commit is
-- visible. In a VOLATILE plpgsql function under READ COMMITTED each statement takes a new
-- snapshot, so the EXISTS below, which runs after the lock is granted, sees the row of any
-- earlier holder. Under REPEATABLE READ or SERIALIZABLE it would not (the snapshot is the
-- transaction's), hence the refusal.
--
-- A record of a day that bluetrace_drop_tempid_partitions is dropping at that moment (only
-- an import of a record already past the retention can be one) fails with "no partition of
-- relation "tempids" found for row"; it is refused, never acknowledged and lost.
CREATE FUNCTION bluetrace_insert_tempid(p_tempid bpchar, p_phone text, p_start bigint,
                                        p_expiry bigint) RETURNS boolean
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
  d integer := floor(p_expiry / 86400.0);
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'bluetrace_insert_tempid needs READ COMMITTED, not %',
      current_setting('transaction_isolation');
  END IF;
  PERFORM pg_advisory_xact_lock(1651796324, hashtext(p_tempid));
  -- Before anything reads `tempids` (see bluetrace_ensure_tempid_partition). The partition
  -- normally exists already (Compact creates the coming days), so no lock is taken then.
  IF to_regclass(quote_ident('tempids_d' || d)) IS NULL THEN
    PERFORM bluetrace_ensure_tempid_partition(d);
  END IF;
  IF EXISTS (SELECT 1 FROM tempids WHERE tempid = p_tempid) THEN
    RETURN false;
  END IF;
  INSERT INTO tempids (tempid, phone, start, expiry, day)
    VALUES (p_tempid, p_phone, p_start, p_expiry, d);
  RETURN true;
END
$$;

-- The records of version 1, each in its day's partition.
SELECT bluetrace_ensure_tempid_partition(d)
  FROM (SELECT DISTINCT floor(expiry / 86400.0)::integer AS d FROM tempids_v1) AS days;
INSERT INTO tempids (tempid, phone, start, expiry, day)
  SELECT tempid, phone, start, expiry, floor(expiry / 86400.0)::integer FROM tempids_v1;
DROP TABLE tempids_v1;
