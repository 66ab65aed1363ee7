-- Spokes schema, version 7 (postgres). Keep in step with the other backend's 0007_webhook_inbox.sql.

-- Webhook events already accepted, by their source's event id (`hubspot:<eventId>`), so a
-- redelivered or replayed event is acknowledged without being queued again. Each accepted
-- event is queued as a job in the same transaction (src/sql/inbox.rs). Swept after a week,
-- longer than HubSpot retries a delivery.
CREATE TABLE webhook_events (
    event_key   TEXT PRIMARY KEY,
    job_id      TEXT NOT NULL,
    received_at BIGINT NOT NULL
);

CREATE INDEX webhook_events_received_at ON webhook_events (received_at);
