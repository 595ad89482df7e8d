-- The index of the unique constraint users_login_key, (instance_id, login_key), already holds users in
-- login order, and a login is unique in its instance, so an order by login and then id is
-- read from it without sorting. users_by_login held the same order again, and every
-- create paid for one more page.
DROP INDEX users_by_login;
