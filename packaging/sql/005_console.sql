-- bluetrace PostgreSQL schema, version 5: the contact tracers' web console. Staff accounts
-- (separate from the app's users), their login failures (one row, so the lockout holds across every
-- server instance), their console sessions (by the SHA-256 of the cookie's token, never the
-- token, so every instance behind a load balancer accepts them) and the tracers' status and
-- note per contact.
--
-- Privileges the server role needs (and bluetrace-admin's role for `staff`):
--   GRANT SELECT, INSERT, UPDATE, DELETE ON console_staff, console_sessions,
--     contact_status TO <server role>;

CREATE TABLE console_staff (
  name          text    PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,31}$'),
  role          text    NOT NULL CHECK (role IN ('tracer', 'admin')),
  password_hash text    NOT NULL,              -- Argon2id PHC encoding
  failures      integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
  blocked_until bigint  NOT NULL DEFAULT 0     -- unix seconds; 0: not blocked
);

CREATE TABLE console_sessions (
  token_hash text   PRIMARY KEY,                -- hex SHA-256 of the cookie's token
  staff      text   NOT NULL REFERENCES console_staff (name) ON DELETE CASCADE,
  csrf_token text   NOT NULL,
  created_at bigint NOT NULL,                   -- unix seconds
  last_seen  bigint NOT NULL
);
CREATE INDEX console_sessions_staff ON console_sessions (staff);

CREATE TABLE contact_status (
  phone      text   PRIMARY KEY,
  status     text   NOT NULL CHECK (status IN ('to_call', 'reached', 'unreachable', 'not_needed')),
  note       text   NOT NULL,
  updated_by text   NOT NULL,
  updated_at bigint NOT NULL
);
