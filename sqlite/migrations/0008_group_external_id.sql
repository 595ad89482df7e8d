-- The provisioning client's id for a group (SCIM's externalId), as users have one.
ALTER TABLE groups ADD COLUMN external_id TEXT NOT NULL DEFAULT '';
