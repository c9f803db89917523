-- VNF packages (SOL005 VnfPkgInfo). The package files live in [vnf_package]
-- vnf_package_csar_path; these rows hold the metadata every server and conductor shares.
-- JSON-valued attributes are stored as text.
CREATE TABLE vnf_packages (
    id VARCHAR(36) NOT NULL PRIMARY KEY,
    tenant_id VARCHAR(64) NOT NULL,
    onboarding_state VARCHAR(16) NOT NULL,
    operational_state VARCHAR(16) NOT NULL,
    usage_state VARCHAR(16) NOT NULL,
    user_data TEXT NOT NULL,
    -- Set when onboarding succeeds; one package per VNFD, as in Tacker.
    vnfd_id VARCHAR(255) NULL,
    vnf_provider VARCHAR(255) NULL,
    vnf_product_name VARCHAR(255) NULL,
    vnf_software_version VARCHAR(255) NULL,
    vnfd_version VARCHAR(255) NULL,
    checksum TEXT NULL,
    software_images TEXT NULL,
    additional_artifacts TEXT NULL,
    -- The parsed VNFD (flavours, VDUs, scaling aspects, instantiation levels) the
    -- conductor acts on, and the files the VNFD consists of.
    vnfd TEXT NULL,
    vnfd_files TEXT NULL,
    -- ProblemDetails of the last failed onboarding (SOL005 onboardingFailureDetails).
    onboarding_failure TEXT NULL,
    -- When the current upload started: an onboarding older than its deadline was
    -- interrupted (a server restart) and is handed back to CREATED.
    onboarding_started_at TIMESTAMPTZ NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NULL,
    CONSTRAINT uniq_vnf_packages0vnfd_id UNIQUE (vnfd_id)
);
CREATE INDEX vnf_packages_tenant_id ON vnf_packages (tenant_id);
