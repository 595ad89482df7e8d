-- Attributes a face keeps that no canonical field holds (SCIM's title, addresses,
-- further phone numbers…), as one JSON object per user; '' is none.
ALTER TABLE users ADD COLUMN extra TEXT NOT NULL DEFAULT '';
