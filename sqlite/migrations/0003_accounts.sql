-- The accounts core: per-instance policy, password history, sessions, TOTP and recovery
-- codes, and when each key and token was last used. Durations are seconds.
ALTER TABLE instances ADD COLUMN password_min_length INTEGER NOT NULL DEFAULT 8;
ALTER TABLE instances ADD COLUMN password_history INTEGER NOT NULL DEFAULT 5;
ALTER TABLE instances ADD COLUMN password_max_age INTEGER NOT NULL DEFAULT 0;
ALTER TABLE instances ADD COLUMN lockout_threshold INTEGER NOT NULL DEFAULT 5;
ALTER TABLE instances ADD COLUMN lockout_duration INTEGER NOT NULL DEFAULT 900;

-- Hashes a user's password had before; the newest rows are the ones kept.
CREATE TABLE password_history (
    id         INTEGER PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash       TEXT NOT NULL,
    retired_at INTEGER NOT NULL
);
CREATE INDEX password_history_by_user ON password_history (user_id, id);

CREATE TABLE sessions (
    id                   TEXT PRIMARY KEY,
    instance_id          TEXT NOT NULL,
    user_id              TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash                 BLOB NOT NULL UNIQUE,
    password_change_only INTEGER NOT NULL DEFAULT 0,
    created_at           INTEGER NOT NULL,
    expires_at           INTEGER NOT NULL,
    revoked_at           INTEGER
);
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE totp (
    user_id          TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret_encrypted BLOB NOT NULL,
    confirmed        INTEGER NOT NULL DEFAULT 0,
    last_step        INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL
);

CREATE TABLE recovery_codes (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash    BLOB NOT NULL,
    used_at INTEGER,
    PRIMARY KEY (user_id, hash)
);

ALTER TABLE access_keys ADD COLUMN last_used_at INTEGER;
ALTER TABLE api_tokens ADD COLUMN last_used_at INTEGER;
