-- Key/value tags on users (NAVER Cloud's user tags), one value per key.
CREATE TABLE user_tags (
    user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tag_key   TEXT NOT NULL,
    tag_value TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (user_id, tag_key)
);
