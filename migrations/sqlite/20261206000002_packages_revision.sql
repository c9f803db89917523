-- Bumped first thing in every transaction that changes what a VNF package shows (its
-- creation, onboarding states, PATCH, deletion, and the usage state that instance
-- transactions refresh, after their lcm_revision), so that any process can tell with one
-- cheap read whether its copy of a rendered package list is still current.
CREATE TABLE packages_revision (
    id INTEGER NOT NULL PRIMARY KEY,
    revision BIGINT NOT NULL
);
INSERT INTO packages_revision (id, revision) VALUES (1, 0);
