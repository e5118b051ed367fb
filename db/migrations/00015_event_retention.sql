-- +goose Up
-- Events are kept for events.Retention (30 days), then a River sweeper
-- deletes them (events.PurgeWorker). A deleted event takes its webhook
-- delivery attempts with it; an event still being delivered is far younger
-- than that (deliveries give up after 3 days).
ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_event_id_fkey,
    ADD CONSTRAINT webhook_deliveries_event_id_fkey FOREIGN KEY (event_id) REFERENCES events (id) ON DELETE CASCADE;
CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (event_id);
-- Rows arrive in created_at order, so a BRIN index finds the old ones.
CREATE INDEX events_created_at_brin ON events USING brin (created_at);

-- +goose Down
DROP INDEX events_created_at_brin;
DROP INDEX webhook_deliveries_event_idx;
ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_event_id_fkey,
    ADD CONSTRAINT webhook_deliveries_event_id_fkey FOREIGN KEY (event_id) REFERENCES events (id);
