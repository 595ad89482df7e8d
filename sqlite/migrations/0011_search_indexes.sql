-- VikingCloud's user search compares firstName and lastName ignoring case, as
-- lower(column) = lower(?), and orgId as written: these indexes seek them, as
-- 0006's do displayName and emails. Its basic criterion (a substring of the username,
-- names, email or orgId) is LIKE '%…%' across five columns, which no B-tree answers in
-- SQLite: it reads the users of the instance (docs/benchmarks.md).
CREATE INDEX users_given_name_lower ON users (instance_id, lower(given_name));
CREATE INDEX users_family_name_lower ON users (instance_id, lower(family_name));
CREATE INDEX users_organization ON users (instance_id, organization);
