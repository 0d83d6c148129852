-- bluetrace PostgreSQL schema, version 6: upload codes issued per day, for the console's
-- activity chart. Counts only (no phone number, no digest), kept after the codes themselves
-- are redeemed, expire or are removed; PgUploadCodeStore::Put counts a code in the same
-- statement that stores it.
--
-- Privileges the server role needs (and bluetrace-admin's role for `code issue`):
--   GRANT SELECT, INSERT, UPDATE ON upload_codes_issued TO <server role>;

CREATE TABLE upload_codes_issued (
  day   bigint PRIMARY KEY CHECK (day % 86400 = 0),  -- unix seconds of the UTC day's start
  codes bigint NOT NULL CHECK (codes > 0)
);
