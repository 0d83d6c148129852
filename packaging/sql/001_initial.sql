-- bluetrace PostgreSQL schema, version 1. Applied once, in a transaction, by
-- store::ApplyMigrations (store/postgres/migrations.hpp), which records the version in
-- schema_version (which the runner creates itself, before the first migration: version,
-- name, applied_at); never edit a shipped migration, add the next file instead.
--
-- Times are unix seconds (bigint) of the server's injected clock unless named *_at with
-- timestamptz. Phone numbers are canonical ("+<digits>").

-- Registered users: one row per canonical phone number (the primary key enforces the
-- uniqueness the UserStore contract demands across server instances).
CREATE TABLE users (
  phone   text        PRIMARY KEY,
  secret  text        NOT NULL,              -- Argon2id PHC encoding
  created timestamptz NOT NULL DEFAULT now()
);

-- Consecutive login failures and blocks per lockout key (a user, or a user's device).
-- Names that are no account are kept too (known = false), so every instance gives them
-- the same answers as accounts.
CREATE TABLE lockouts (
  key           text    PRIMARY KEY,
  failures      integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
  blocked_until bigint  NOT NULL DEFAULT 0,     -- unix seconds; 0: not blocked
  known         boolean NOT NULL DEFAULT true,  -- false: a name that is no account
  updated       bigint  NOT NULL DEFAULT 0      -- unix seconds of the last failure
);
CREATE INDEX lockouts_blocked_until ON lockouts (blocked_until) WHERE blocked_until > 0;
-- The oldest names that are no account go first when there are too many of them.
CREATE INDEX lockouts_unknown_updated ON lockouts (updated) WHERE NOT known;

-- Issued TempIDs. A plain table for now: partitioning by day of expiry (to drop a day at
-- once) needs the partition key in every unique index, so it would give up the global
-- uniqueness of tempid; that trade is left to a later migration.
CREATE TABLE tempids (
  tempid char(20) PRIMARY KEY,
  phone  text     NOT NULL,
  start  bigint   NOT NULL,
  expiry bigint   NOT NULL CHECK (expiry >= start)
);
CREATE INDEX tempids_expiry ON tempids (expiry);

-- Uploaded contact-log reports, by their unique report name.
CREATE TABLE reports (
  name        text   PRIMARY KEY,
  uploader    text   NOT NULL,
  received_at bigint NOT NULL,
  text        text   NOT NULL
);
CREATE INDEX reports_received_at ON reports (received_at);

-- Device tokens: only a digest of each token is stored. `seq` orders tokens issued within
-- one second, so the oldest beyond the per-user limit is always the same one.
CREATE TABLE devices (
  phone        text   NOT NULL,
  device_id    text   NOT NULL,                -- 16 hex digits of the token's digest
  token_digest bytea  NOT NULL,                -- SHA-256 of the token
  issued_at    bigint NOT NULL,
  seq          bigint GENERATED ALWAYS AS IDENTITY,
  PRIMARY KEY (phone, device_id)
);
CREATE INDEX devices_phone_issued ON devices (phone, issued_at, seq);

-- The audit trail: a hash chain, each record's hash covering its predecessor's. `fields`
-- keeps the encoded key=value text as hashed (jsonb would reorder the keys).
CREATE TABLE audit (
  seq       bigserial PRIMARY KEY,
  time      bigint    NOT NULL,
  event     text      NOT NULL,
  fields    text      NOT NULL DEFAULT '',
  prev_hash bytea     NOT NULL,
  hash      bytea     NOT NULL UNIQUE
);
