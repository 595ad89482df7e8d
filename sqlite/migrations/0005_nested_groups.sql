-- Groups as members of groups (SCIM's members of type Group). A nested group's users
-- are members of every group that holds it, directly or further up; the store refuses
-- a nesting that would make a group its own member.
CREATE TABLE group_subgroups (
    instance_id TEXT NOT NULL,
    group_id    TEXT NOT NULL,
    member_id   TEXT NOT NULL,
    PRIMARY KEY (instance_id, group_id, member_id),
    FOREIGN KEY (instance_id, group_id) REFERENCES groups (instance_id, id) ON DELETE CASCADE,
    FOREIGN KEY (instance_id, member_id) REFERENCES groups (instance_id, id) ON DELETE CASCADE
);
CREATE INDEX group_subgroups_by_member ON group_subgroups (instance_id, member_id);
