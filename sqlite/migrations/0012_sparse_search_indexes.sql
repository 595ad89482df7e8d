-- A write pays for every index of users it lands in, and most users have no first name,
-- last name or organization of their own (SCP's and NAVER Cloud's creates carry none):
-- 0011's indexes of them hold only the users who have one, so creating a user without
-- them changes none of their pages. Queries comparing these columns for equality with a
-- value add col <> '' (implied), which lets the engine seek them (sqlstore/where.go).
DROP INDEX users_given_name_lower;
DROP INDEX users_family_name_lower;
DROP INDEX users_organization;
CREATE INDEX users_given_name_lower ON users (instance_id, lower(given_name)) WHERE given_name <> '';
CREATE INDEX users_family_name_lower ON users (instance_id, lower(family_name)) WHERE family_name <> '';
CREATE INDEX users_organization ON users (instance_id, organization) WHERE organization <> '';
