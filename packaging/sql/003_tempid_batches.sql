-- bluetrace PostgreSQL schema, version 3: TempIDs are inserted in batches.
--
-- Version 2's bluetrace_insert_tempid() took one TempID per call, so every TempID paid for
-- a whole transaction: the locks of the 21 or so day partitions and their indexes, a plan
-- start and a commit. About 2 ms of database CPU each, which held two cores near 1,000
-- TempIDs a second whatever the number of server instances (docs/BENCHMARKS.md). A server
-- now gathers the TempIDs its requests want at the same moment and inserts them with one
-- call of bluetrace_insert_tempids(): the per-call cost is shared, the per-TempID work is
-- the uniqueness probe of each partition's index and the insert.
--
-- The same rule as version 2 keeps TempIDs unique across every day and every instance:
-- whoever inserts a TempID holds the transaction-scoped advisory lock of its hash (class
-- 1651796324, key hashtext(tempid)) from before its check until after its commit. A batch
-- takes the locks of all its TempIDs in ascending key order, so two batches never wait for
-- each other in a circle.
--
-- Privileges: the server's role needs
--   GRANT EXECUTE ON FUNCTION bluetrace_insert_tempids(bpchar[], text[], bigint[],
--     bigint[]) TO <server role>;
-- instead of EXECUTE on bluetrace_insert_tempid, which this script drops.

DROP FUNCTION bluetrace_insert_tempid(bpchar, text, bigint, bigint);

-- Records each (p_tempids[i], p_phones[i], p_starts[i], p_expiries[i]) whose TempID no day's
-- partition holds, and returns their positions i (1-based). Of TempIDs repeated within the
-- batch only the first is recorded. One statement, so one round trip; the caller runs it
-- autocommitted under READ COMMITTED (as version 2's function explains: each statement of
-- this VOLATILE function takes a new snapshot, so the check after the locks sees the rows
-- of every earlier holder).
CREATE FUNCTION bluetrace_insert_tempids(p_tempids bpchar[], p_phones text[],
                                         p_starts bigint[], p_expiries bigint[])
RETURNS SETOF integer
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
  k integer;
  d integer;
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'bluetrace_insert_tempids needs READ COMMITTED, not %',
      current_setting('transaction_isolation');
  END IF;
  IF cardinality(p_phones) IS DISTINCT FROM cardinality(p_tempids)
     OR cardinality(p_starts) IS DISTINCT FROM cardinality(p_tempids)
     OR cardinality(p_expiries) IS DISTINCT FROM cardinality(p_tempids) THEN
    RAISE EXCEPTION 'bluetrace_insert_tempids: the four arrays differ in length';
  END IF;
  FOR k IN SELECT DISTINCT hashtext(t) FROM unnest(p_tempids) AS t ORDER BY 1 LOOP
    PERFORM pg_advisory_xact_lock(1651796324, k);
  END LOOP;
  -- Before anything reads `tempids` (see bluetrace_ensure_tempid_partition in version 2).
  FOR d IN SELECT DISTINCT floor(e / 86400.0)::integer FROM unnest(p_expiries) AS e LOOP
    IF to_regclass(quote_ident('tempids_d' || d)) IS NULL THEN
      PERFORM bluetrace_ensure_tempid_partition(d);
    END IF;
  END LOOP;
  RETURN QUERY
    WITH input AS (
      SELECT u.tempid, u.phone, u.start, u.expiry, u.i::integer AS i
        FROM unnest(p_tempids, p_phones, p_starts, p_expiries)
               WITH ORDINALITY AS u(tempid, phone, start, expiry, i)),
    fresh AS (
      SELECT DISTINCT ON (input.tempid) input.*
        FROM input
       WHERE NOT EXISTS (SELECT 1 FROM tempids t WHERE t.tempid = input.tempid)
       ORDER BY input.tempid, input.i),
    inserted AS (
      INSERT INTO tempids (tempid, phone, start, expiry, day)
      SELECT fresh.tempid, fresh.phone, fresh.start, fresh.expiry,
             floor(fresh.expiry / 86400.0)::integer
        FROM fresh)
    SELECT fresh.i FROM fresh ORDER BY fresh.i;
END
$$;
