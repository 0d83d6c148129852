-- bluetrace PostgreSQL schema, version 7: audit.retention, the oldest audit records pruned.
--
-- The server role may neither update nor delete `audit` rows (it cannot rewrite the
-- chain: docs/DEPLOYMENT.md). Pruning goes through bluetrace_prune_audit(), which runs
-- with the rights of its owner (SECURITY DEFINER) and does one thing: under the chain's
-- advisory lock, it deletes the records before the first whose time is at or after the
-- cutoff (an earlier anchor with them) and inserts in their place the anchor record
-- "audit_pruned before=<cutoff> records=<n>[ <fields>]" with the last deleted record's seq
-- and hash as its seq and prev_hash, hashed as every record is (store/files/audit_log.hpp).
-- The kept rows are untouched; the chain runs on from the anchor's prev_hash. A cutoff
-- less than a day before the database's clock is refused, so a server role that is misused
-- cannot empty the trail of the last day.
--
-- Privileges the server role needs (and bluetrace-admin's role for `audit prune`):
--   GRANT EXECUTE ON FUNCTION bluetrace_prune_audit(bigint, bigint, text) TO <server role>;
-- (no DELETE on audit; PUBLIC's EXECUTE is revoked below).

-- p_fields: more fields of the anchor, as a record holds them (" by=ana"; may be empty).
-- Returns the number of records deleted (anchors not counted) and the anchor's seq, or
-- (0, 0) when no record is older than the cutoff (then nothing is written).
CREATE FUNCTION bluetrace_prune_audit(p_cutoff bigint, p_now bigint, p_fields text)
RETURNS TABLE (dropped bigint, anchor_seq bigint)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
DECLARE
  v_first_kept bigint;
  v_dropped bigint;
  v_prev bytea;
  v_fields text;
BEGIN
  IF p_cutoff > floor(extract(epoch FROM now()))::bigint - 86400 THEN
    RAISE EXCEPTION 'bluetrace_prune_audit: the cutoff % is less than a day ago', p_cutoff
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF p_fields !~ '^( [a-z0-9_.]+=[A-Za-z0-9._:/@+%-]*)*$' THEN
    RAISE EXCEPTION 'bluetrace_prune_audit: malformed fields'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  PERFORM pg_advisory_xact_lock(108251990811764);  -- the chain's lock (PgAuditTrail)
  -- In seq order along the primary key, stopping at the first record to keep: a run with
  -- nothing to drop (most of the hourly ones) reads a row or two.
  SELECT a.seq INTO v_first_kept
    FROM audit a WHERE a.time >= p_cutoff AND a.event <> 'audit_pruned' ORDER BY a.seq LIMIT 1;
  IF v_first_kept IS NULL THEN
    SELECT max(a.seq) + 1 INTO v_first_kept FROM audit a;
  END IF;
  SELECT count(*) INTO v_dropped
    FROM audit a WHERE a.seq < v_first_kept AND a.event <> 'audit_pruned';
  IF v_first_kept IS NULL OR v_dropped = 0 THEN
    RETURN QUERY SELECT 0::bigint, 0::bigint;
    RETURN;
  END IF;
  SELECT a.hash INTO STRICT v_prev FROM audit a WHERE a.seq = v_first_kept - 1;
  DELETE FROM audit a WHERE a.seq < v_first_kept;
  v_fields := 'before=' || p_cutoff || ' records=' || v_dropped || p_fields;
  INSERT INTO audit (seq, time, event, fields, prev_hash, hash)
  VALUES (v_first_kept - 1, p_now, 'audit_pruned', v_fields, v_prev,
          sha256(convert_to(encode(v_prev, 'hex') || ' ' || (v_first_kept - 1) || ' ' ||
                            p_now || ' audit_pruned ' || v_fields, 'UTF8')));
  RETURN QUERY SELECT v_dropped, v_first_kept - 1;
END
$$;
REVOKE ALL ON FUNCTION bluetrace_prune_audit(bigint, bigint, text) FROM PUBLIC;
