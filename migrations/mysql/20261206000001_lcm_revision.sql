-- Bumped first thing in every transaction that changes what a VNF instance, an operation
-- occurrence or an LCM subscription shows, so that any process can tell with one cheap
-- read whether its copy of a rendered LCM list is still current. Taken first, its row
-- lock orders those transactions the same way everywhere, so it cannot take part in a
-- deadlock.
CREATE TABLE lcm_revision (
    id INTEGER NOT NULL PRIMARY KEY,
    revision BIGINT NOT NULL
);
INSERT INTO lcm_revision (id, revision) VALUES (1, 0);
