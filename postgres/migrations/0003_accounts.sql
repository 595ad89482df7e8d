-- The accounts core: per-instance policy, password history, sessions, TOTP and recovery
-- codes, and when each key and token was last used. Durations are seconds.
ALTER TABLE instances ADD COLUMN password_min_length INTEGER NOT NULL DEFAULT 8;
ALTER TABLE instances ADD COLUMN password_history INTEGER NOT NULL DEFAULT 5;
ALTER TABLE instances ADD COLUMN password_max_age BIGINT NOT NULL DEFAULT 0;
ALTER TABLE instances ADD COLUMN lockout_threshold INTEGER NOT NULL DEFAULT 5;
ALTER TABLE instances ADD COLUMN lockout_duration BIGINT NOT NULL DEFAULT 900;

-- Hashes a user's password had before; the newest rows are the ones kept.
CREATE TABLE password_history (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash       TEXT NOT NULL,
    retired_at BIGINT NOT NULL
);
CREATE INDEX password_history_by_user ON password_history (user_id, id);

CREATE TABLE sessions (
    id                   TEXT PRIMARY KEY,
    instance_id          TEXT NOT NULL,
    user_id              TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash                 BYTEA NOT NULL UNIQUE,
    password_change_only BOOLEAN NOT NULL DEFAULT false,
    created_at           BIGINT NOT NULL,
    expires_at           BIGINT NOT NULL,
    revoked_at           BIGINT
);
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE totp (
    user_id          TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret_encrypted BYTEA NOT NULL,
    confirmed        BOOLEAN NOT NULL DEFAULT false,
    last_step        BIGINT NOT NULL DEFAULT 0,
    created_at       BIGINT NOT NULL
);

CREATE TABLE recovery_codes (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash    BYTEA NOT NULL,
    used_at BIGINT,
    PRIMARY KEY (user_id, hash)
);

ALTER TABLE access_keys ADD COLUMN last_used_at BIGINT;
ALTER TABLE api_tokens ADD COLUMN last_used_at BIGINT;
