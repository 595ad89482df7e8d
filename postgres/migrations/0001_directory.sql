-- Times are microseconds since the Unix epoch, UTC. Text that is sorted or compared is
-- COLLATE "C" (byte order) so that PostgreSQL orders pages exactly as SQLite does.
CREATE TABLE instances (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE users (
    id                    TEXT PRIMARY KEY,
    instance_id           TEXT NOT NULL REFERENCES instances (id),
    login_name            TEXT NOT NULL,
    login_key             TEXT COLLATE "C" NOT NULL,
    realm                 TEXT NOT NULL DEFAULT '',
    display_name          TEXT COLLATE "C" NOT NULL DEFAULT '',
    given_name            TEXT NOT NULL DEFAULT '',
    family_name           TEXT NOT NULL DEFAULT '',
    email                 TEXT NOT NULL DEFAULT '',
    email_verified        BOOLEAN NOT NULL DEFAULT false,
    phone_country_code    TEXT NOT NULL DEFAULT '',
    phone_number          TEXT NOT NULL DEFAULT '',
    phone_extension       TEXT NOT NULL DEFAULT '',
    phone_verified        BOOLEAN NOT NULL DEFAULT false,
    employee_number       TEXT NOT NULL DEFAULT '',
    department            TEXT NOT NULL DEFAULT '',
    business_unit         TEXT NOT NULL DEFAULT '',
    manager               TEXT NOT NULL DEFAULT '',
    organization          TEXT NOT NULL DEFAULT '',
    description           TEXT NOT NULL DEFAULT '',
    time_zone             TEXT NOT NULL DEFAULT '',
    locale                TEXT NOT NULL DEFAULT '',
    external_id           TEXT NOT NULL DEFAULT '',
    status                TEXT NOT NULL,
    console_denied        BOOLEAN NOT NULL DEFAULT false,
    api_denied            BOOLEAN NOT NULL DEFAULT false,
    builtin               BOOLEAN NOT NULL DEFAULT false,
    sso                   BOOLEAN NOT NULL DEFAULT false,
    platform_admin        BOOLEAN NOT NULL DEFAULT false,
    password_hash         TEXT NOT NULL DEFAULT '',
    temporary_password    BOOLEAN NOT NULL DEFAULT false,
    password_changed_at   BIGINT,
    password_failed_count INTEGER NOT NULL DEFAULT 0,
    locked_until          BIGINT,
    expired               BOOLEAN NOT NULL DEFAULT false,
    credentials_expired   BOOLEAN NOT NULL DEFAULT false,
    mfa_enabled           BOOLEAN NOT NULL DEFAULT false,
    elevated_until        BIGINT,
    first_login_at        BIGINT,
    last_login_at         BIGINT,
    last_failed_login_at  BIGINT,
    created_at            BIGINT NOT NULL,
    created_by            TEXT NOT NULL,
    created_by_name       TEXT NOT NULL,
    updated_at            BIGINT NOT NULL,
    updated_by            TEXT NOT NULL,
    updated_by_name       TEXT NOT NULL,
    version               BIGINT NOT NULL,
    CONSTRAINT users_login_key UNIQUE (instance_id, login_key)
);
-- One index per sort order, each ending in id: a page is an index range.
CREATE INDEX users_by_created ON users (instance_id, created_at, id);
CREATE INDEX users_by_updated ON users (instance_id, updated_at, id);
CREATE INDEX users_by_name ON users (instance_id, display_name, id);
CREATE INDEX users_by_login ON users (instance_id, login_key, id);

CREATE TABLE groups (
    instance_id     TEXT NOT NULL REFERENCES instances (id),
    id              TEXT NOT NULL,
    name            TEXT NOT NULL,
    name_key        TEXT COLLATE "C" NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    created_by      TEXT NOT NULL,
    created_by_name TEXT NOT NULL,
    updated_at      BIGINT NOT NULL,
    updated_by      TEXT NOT NULL,
    updated_by_name TEXT NOT NULL,
    version         BIGINT NOT NULL,
    PRIMARY KEY (instance_id, id)
);
CREATE INDEX groups_by_name ON groups (instance_id, name_key, id);

CREATE TABLE group_members (
    instance_id TEXT NOT NULL,
    group_id    TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (instance_id, group_id, user_id),
    FOREIGN KEY (instance_id, group_id) REFERENCES groups (instance_id, id) ON DELETE CASCADE
);
CREATE INDEX group_members_by_user ON group_members (user_id);

CREATE TABLE roles (
    instance_id TEXT NOT NULL REFERENCES instances (id),
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    internal    BOOLEAN NOT NULL DEFAULT false,
    PRIMARY KEY (instance_id, name)
);

CREATE TABLE role_privileges (
    instance_id TEXT NOT NULL,
    role        TEXT NOT NULL,
    privilege   TEXT NOT NULL,
    PRIMARY KEY (instance_id, role, privilege),
    FOREIGN KEY (instance_id, role) REFERENCES roles (instance_id, name) ON DELETE CASCADE
);

CREATE TABLE user_roles (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role    TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
);

CREATE TABLE user_privileges (
    user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    privilege TEXT NOT NULL,
    PRIMARY KEY (user_id, privilege)
);

CREATE TABLE group_roles (
    instance_id TEXT NOT NULL,
    group_id    TEXT NOT NULL,
    role        TEXT NOT NULL,
    PRIMARY KEY (instance_id, group_id, role),
    FOREIGN KEY (instance_id, group_id) REFERENCES groups (instance_id, id) ON DELETE CASCADE
);

CREATE TABLE access_keys (
    id               TEXT PRIMARY KEY,
    instance_id      TEXT NOT NULL,
    user_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    secret_encrypted BYTEA NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    enabled          BOOLEAN NOT NULL,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT
);
CREATE INDEX access_keys_by_user ON access_keys (user_id);

CREATE TABLE api_tokens (
    id          TEXT PRIMARY KEY,
    instance_id TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash        BYTEA NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT
);
CREATE INDEX api_tokens_by_user ON api_tokens (user_id);

-- Append-only: nothing updates or deletes events.
CREATE TABLE events (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    instance_id TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    actor_name  TEXT NOT NULL,
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    reason      TEXT NOT NULL,
    source      TEXT NOT NULL,
    time        BIGINT NOT NULL
);
CREATE INDEX events_by_instance ON events (instance_id, id);
CREATE INDEX events_by_target ON events (instance_id, target_id, id);
