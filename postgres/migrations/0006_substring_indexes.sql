-- SCIM's filters compare displayName and emails ignoring case, as lower(column): co, sw
-- and ew as LIKE, eq as =. With pg_trgm (a contrib extension that managed PostgreSQL
-- services offer, trusted since PostgreSQL 13) a trigram index answers LIKE '%…%' and =
-- from the index. Where the extension cannot be created, plain expression indexes still
-- serve equality, and substring filters scan.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm is not available (%); substring filters will scan users', SQLERRM;
END
$$;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX users_display_name_trgm ON users USING gin (lower(display_name) gin_trgm_ops);
        CREATE INDEX users_email_trgm ON users USING gin (lower(email) gin_trgm_ops);
    ELSE
        CREATE INDEX users_display_name_lower ON users (instance_id, lower(display_name));
        CREATE INDEX users_email_lower ON users (instance_id, lower(email));
    END IF;
END
$$;
