-- VikingCloud's user search compares firstName and lastName ignoring case, as
-- lower(column) = lower(?), and orgId as written: these indexes seek them, as 0006's do
-- displayName and emails. SQLite's schema has the same three. Its basic criterion (a
-- substring of the username, names, email or orgId) is not indexed: trigram indexes on
-- four more columns would tax every write for one vendor's free-text search
-- (docs/benchmarks.md).
CREATE INDEX users_given_name_lower ON users (instance_id, lower(given_name));
CREATE INDEX users_family_name_lower ON users (instance_id, lower(family_name));
CREATE INDEX users_organization ON users (instance_id, organization);
