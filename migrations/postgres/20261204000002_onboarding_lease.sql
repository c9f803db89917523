-- Onboarding (unpacking and checking an uploaded package) is a durable job: the server
-- running it holds a lease on the package row, renewed while it works. A PROCESSING
-- package whose lease ran out (its server stopped) is taken over by the sweep of any
-- server, by a conditional UPDATE, and onboarded again from its stored zip. Leases are
-- written and compared with the database's clock.
ALTER TABLE vnf_packages ADD COLUMN onboarding_claimed_by VARCHAR(64) NULL;
ALTER TABLE vnf_packages ADD COLUMN onboarding_lease_until TIMESTAMPTZ NULL;
