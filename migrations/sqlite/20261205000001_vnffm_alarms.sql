-- VNF fault management (/vnffm/v1): alarms raised from Prometheus alerts. Alarms outlive
-- their instance (as in Tacker), so there is no foreign key to vnf_instances; tenant_id
-- is the instance's project, which decides who sees the alarm.
CREATE TABLE vnffm_alarms (
    id VARCHAR(36) NOT NULL PRIMARY KEY,
    tenant_id VARCHAR(64) NOT NULL,
    managed_object_id VARCHAR(36) NOT NULL,
    -- The LCM API of the instance ('1' or '2'), for the alarm's objectInstance link.
    managed_object_api VARCHAR(8) NOT NULL,
    -- Alertmanager's fingerprint of the alert that raised the alarm.
    fingerprint VARCHAR(255) NOT NULL,
    -- The fingerprint while the alarm is not cleared, NULL after: at most one open alarm
    -- per instance and alert, also when Alertmanager delivers the same alert twice at once.
    open_fingerprint VARCHAR(255) NULL,
    -- JSON array of vnfcInfo ids.
    vnfc_instance_ids TEXT NOT NULL,
    alarm_raised_time TIMESTAMP NOT NULL,
    alarm_changed_time TIMESTAMP NULL,
    alarm_cleared_time TIMESTAMP NULL,
    alarm_acknowledged_time TIMESTAMP NULL,
    ack_state VARCHAR(16) NOT NULL,
    perceived_severity VARCHAR(16) NOT NULL,
    event_time TIMESTAMP NOT NULL,
    event_type VARCHAR(32) NOT NULL,
    fault_type VARCHAR(255) NULL,
    probable_cause VARCHAR(255) NOT NULL,
    is_root_cause BOOLEAN NOT NULL,
    -- JSON array of strings.
    fault_details TEXT NOT NULL,
    CONSTRAINT vnffm_alarms_open UNIQUE (managed_object_id, open_fingerprint),
    CONSTRAINT vnffm_alarms_ack_state CHECK (ack_state IN ('UNACKNOWLEDGED', 'ACKNOWLEDGED'))
);
CREATE INDEX vnffm_alarms_tenant_id ON vnffm_alarms (tenant_id);
