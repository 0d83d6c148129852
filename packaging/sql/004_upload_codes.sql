-- bluetrace PostgreSQL schema, version 4: upload codes and the withdrawal of consent
-- (docs/SECURITY.md, "Upload codes"; README, "Withdrawal of consent").
--
-- Privileges the server's login role needs on top of versions 1 and 2 (docs/DEPLOYMENT.md):
--   GRANT SELECT, INSERT, UPDATE, DELETE ON upload_codes, upload_code_failures
--     TO <server role>;
--   GRANT DELETE ON reports TO <server role>;   -- upload.report_retention
-- (Deregistration deletes from users, lockouts and tempids, which version 1 already
-- grants; bluetrace-admin, which issues codes and removes users, needs the same.)

-- The one live upload code per phone number, as HMAC-SHA256(server key, phone, code) in
-- hex: the code itself is never stored. Redeeming is one DELETE ... RETURNING, so of two
-- instances redeeming one code exactly one gets its row.
CREATE TABLE upload_codes (
  phone      text     PRIMARY KEY,
  digest     char(64) NOT NULL,
  issued_at  bigint   NOT NULL,
  expires_at bigint   NOT NULL
);

-- Wrong upload codes per user, counted and blocked like login failures (same columns, so
-- the lockout store's statements serve both tables).
CREATE TABLE upload_code_failures (LIKE lockouts INCLUDING ALL);

-- Deregistration deletes a user's TempIDs by phone number: without this index that
-- DELETE scans every day's partition. It costs each TempID insert one more index entry
-- (a few microseconds; TempID issuance is bounded by the commit, not by the index).
CREATE INDEX tempids_phone ON tempids (phone);
