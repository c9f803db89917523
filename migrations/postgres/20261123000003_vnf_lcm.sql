-- VNF lifecycle management (SOL003): instances, operation occurrences, subscriptions and
-- the notification outbox. JSON-valued attributes are stored as text; secrets inside them
-- arrive already encrypted.

-- Which API created the instance ('1' or '2'): Tacker keeps v1 and v2 instances apart.
ALTER TABLE vnf_instances ADD COLUMN api_version VARCHAR(8) NOT NULL DEFAULT '2';
ALTER TABLE vnf_instances ADD COLUMN vnf_instance_name VARCHAR(255) NULL;
ALTER TABLE vnf_instances ADD COLUMN vnf_instance_description TEXT NULL;
ALTER TABLE vnf_instances ADD COLUMN vnfd_id VARCHAR(255) NOT NULL DEFAULT '';
ALTER TABLE vnf_instances ADD COLUMN vnf_pkg_id VARCHAR(36) NULL;
ALTER TABLE vnf_instances ADD COLUMN vnf_provider VARCHAR(255) NOT NULL DEFAULT '';
ALTER TABLE vnf_instances ADD COLUMN vnf_product_name VARCHAR(255) NOT NULL DEFAULT '';
ALTER TABLE vnf_instances ADD COLUMN vnf_software_version VARCHAR(255) NOT NULL DEFAULT '';
ALTER TABLE vnf_instances ADD COLUMN vnfd_version VARCHAR(255) NOT NULL DEFAULT '';
ALTER TABLE vnf_instances ADD COLUMN instantiation_state VARCHAR(16) NOT NULL DEFAULT 'NOT_INSTANTIATED';
ALTER TABLE vnf_instances ADD COLUMN vim_connection_info TEXT NULL;
ALTER TABLE vnf_instances ADD COLUMN instantiated_vnf_info TEXT NULL;
ALTER TABLE vnf_instances ADD COLUMN metadata TEXT NULL;
ALTER TABLE vnf_instances ADD COLUMN extensions TEXT NULL;
ALTER TABLE vnf_instances ADD COLUMN vnf_configurable_properties TEXT NULL;
-- The operation occurrence that holds the instance: set when an operation is accepted,
-- cleared when it ends (COMPLETED, FAILED, ROLLED_BACK). One operation at a time.
ALTER TABLE vnf_instances ADD COLUMN active_op_occ_id VARCHAR(36) NULL;
ALTER TABLE vnf_instances ADD COLUMN updated_at TIMESTAMPTZ NULL;
CREATE INDEX vnf_instances_tenant_id ON vnf_instances (tenant_id);
CREATE INDEX vnf_instances_vnfd_id ON vnf_instances (vnfd_id);

CREATE TABLE vnf_lcm_op_occs (
    id VARCHAR(36) NOT NULL PRIMARY KEY,
    tenant_id VARCHAR(64) NOT NULL,
    api_version VARCHAR(8) NOT NULL,
    vnf_instance_id VARCHAR(36) NOT NULL REFERENCES vnf_instances (id) ON DELETE CASCADE,
    operation VARCHAR(32) NOT NULL,
    operation_state VARCHAR(16) NOT NULL,
    state_entered_time TIMESTAMPTZ NOT NULL,
    start_time TIMESTAMPTZ NOT NULL,
    is_automatic_invocation BOOLEAN NOT NULL DEFAULT FALSE,
    is_cancel_pending BOOLEAN NOT NULL DEFAULT FALSE,
    cancel_mode VARCHAR(16) NULL,
    operation_params TEXT NOT NULL,
    error TEXT NULL,
    resource_changes TEXT NULL,
    changed_info TEXT NULL,
    changed_ext_connectivity TEXT NULL,
    -- Work for a conductor: 'start', 'retry' or 'rollback'; NULL when none is due.
    pending_action VARCHAR(16) NULL,
    -- The conductor working on it and until when its claim holds (renewed while working).
    claimed_by VARCHAR(64) NULL,
    lease_until TIMESTAMPTZ NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NULL,
    CONSTRAINT vnf_lcm_op_occs_state CHECK (operation_state IN
        ('STARTING', 'PROCESSING', 'COMPLETED', 'FAILED_TEMP', 'FAILED', 'ROLLING_BACK', 'ROLLED_BACK'))
);
CREATE INDEX vnf_lcm_op_occs_pending ON vnf_lcm_op_occs (pending_action, lease_until);

CREATE TABLE lcm_subscriptions (
    id VARCHAR(36) NOT NULL PRIMARY KEY,
    tenant_id VARCHAR(64) NOT NULL,
    api_version VARCHAR(8) NOT NULL,
    callback_uri TEXT NOT NULL,
    filter TEXT NULL,
    verbosity VARCHAR(8) NOT NULL DEFAULT 'FULL',
    -- JSON, secrets encrypted with the subscription's key.
    authentication TEXT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

-- Notifications waiting for delivery: written in the transaction that changes the state
-- they report, deleted once the subscriber has taken them. A crash loses nothing.
CREATE TABLE lcm_notifications (
    id VARCHAR(36) NOT NULL PRIMARY KEY,
    subscription_id VARCHAR(36) NOT NULL REFERENCES lcm_subscriptions (id) ON DELETE CASCADE,
    notification_type VARCHAR(64) NOT NULL,
    payload TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    claimed_by VARCHAR(64) NULL,
    lease_until TIMESTAMPTZ NULL,
    last_error TEXT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT lcm_notifications_attempts CHECK (attempts >= 0)
);
CREATE INDEX lcm_notifications_due ON lcm_notifications (next_attempt_at);
