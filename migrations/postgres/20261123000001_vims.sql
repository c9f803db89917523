-- VIM registry. One row per VIM; auth_cred holds the credential map with every secret
-- already fernet-encrypted by the API layer.
CREATE TABLE vims (
    id VARCHAR(36) NOT NULL PRIMARY KEY,
    tenant_id VARCHAR(64) NOT NULL,
    type VARCHAR(64) NOT NULL,
    name VARCHAR(255) NOT NULL,
    description TEXT NOT NULL,
    auth_url TEXT NOT NULL,
    vim_project TEXT NOT NULL,
    auth_cred TEXT NOT NULL,
    placement_attr TEXT NOT NULL,
    extra TEXT NOT NULL,
    shared BOOLEAN NOT NULL DEFAULT FALSE,
    is_default BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NULL,
    CONSTRAINT uniq_vims0tenant_id0name UNIQUE (tenant_id, name)
);

-- At most one default VIM per tenant, enforced by the database.
CREATE UNIQUE INDEX uniq_vims0default_per_tenant ON vims (tenant_id) WHERE is_default;

-- VNF instances (extended by the lifecycle migrations). The foreign key makes the
-- "VIM in use" rule hold even against a concurrent delete.
CREATE TABLE vnf_instances (
    id VARCHAR(36) NOT NULL PRIMARY KEY,
    tenant_id VARCHAR(64) NOT NULL,
    vim_id VARCHAR(36) NULL REFERENCES vims (id) ON DELETE RESTRICT,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX vnf_instances_vim_id ON vnf_instances (vim_id);

-- Bumped in the same transaction as every change to vims, so that any process can tell
-- with one cheap read whether its cached copy of the VIM list is still current.
CREATE TABLE vims_revision (
    id INTEGER NOT NULL PRIMARY KEY,
    revision BIGINT NOT NULL
);
INSERT INTO vims_revision (id, revision) VALUES (1, 0);
