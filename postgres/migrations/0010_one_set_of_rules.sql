-- Group names are unique in an instance, ignoring case, unless the instance allows
-- duplicates: unique_key holds the name's key when the instance wants uniqueness and is
-- NULL otherwise, and the unique index holds the rule (NULLs never collide). Instances
-- that already hold duplicate names keep allowing them.
ALTER TABLE instances ADD COLUMN duplicate_group_names BOOLEAN NOT NULL DEFAULT false;
UPDATE instances SET duplicate_group_names = true
    WHERE id IN (SELECT instance_id FROM groups GROUP BY instance_id, name_key HAVING count(*) > 1);
ALTER TABLE groups ADD COLUMN unique_key TEXT;
UPDATE groups SET unique_key = name_key
    WHERE instance_id IN (SELECT id FROM instances WHERE NOT duplicate_group_names);
CREATE UNIQUE INDEX groups_unique_name ON groups (instance_id, unique_key);

-- Roles a holder of a role may not hold as well, comma-separated (ECE's exclusive roles).
ALTER TABLE roles ADD COLUMN excludes TEXT NOT NULL DEFAULT '';
