-- VNF performance management (/vnfpm/v2). Each PM job and threshold is also a row of
-- lcm_subscriptions with the same id (api_version 'pm2'), which holds its callbackUri and
-- authentication, so that its notifications go through the one outbox.
CREATE TABLE vnfpm_jobs (
    id VARCHAR(36) NOT NULL PRIMARY KEY,
    tenant_id VARCHAR(64) NOT NULL,
    object_type VARCHAR(16) NOT NULL,
    -- JSON arrays.
    object_instance_ids TEXT NOT NULL,
    sub_object_instance_ids TEXT NULL,
    -- JSON PmJobCriteria.
    criteria TEXT NOT NULL,
    -- JSON: the request's metadata (monitoring targets), SSH passwords encrypted.
    metadata TEXT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT vnfpm_jobs_subscription_fk FOREIGN KEY (id) REFERENCES lcm_subscriptions (id) ON DELETE CASCADE
);
CREATE INDEX vnfpm_jobs_tenant_id ON vnfpm_jobs (tenant_id);

CREATE TABLE vnfpm_reports (
    id VARCHAR(36) NOT NULL PRIMARY KEY,
    job_id VARCHAR(36) NOT NULL,
    -- JSON array of PerformanceReport entries.
    entries TEXT NOT NULL,
    ready_time TIMESTAMPTZ NOT NULL,
    CONSTRAINT vnfpm_reports_job_fk FOREIGN KEY (job_id) REFERENCES vnfpm_jobs (id) ON DELETE CASCADE
);
CREATE INDEX vnfpm_reports_job_id ON vnfpm_reports (job_id);

CREATE TABLE vnfpm_thresholds (
    id VARCHAR(36) NOT NULL PRIMARY KEY,
    tenant_id VARCHAR(64) NOT NULL,
    object_type VARCHAR(16) NOT NULL,
    object_instance_id VARCHAR(255) NOT NULL,
    sub_object_instance_ids TEXT NULL,
    -- JSON ThresholdCriteria.
    criteria TEXT NOT NULL,
    metadata TEXT NULL,
    -- JSON: the last value seen per sub-object, for crossing detection.
    crossing_state TEXT NOT NULL,
    -- Bumped by every state change: a compare-and-swap under concurrent alerts.
    revision INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT vnfpm_thresholds_subscription_fk FOREIGN KEY (id) REFERENCES lcm_subscriptions (id) ON DELETE CASCADE
);
CREATE INDEX vnfpm_thresholds_tenant_id ON vnfpm_thresholds (tenant_id);
