-- Notification history is pruned once it is old and nothing waits on it. Deleting a message
-- deletes its deliveries and their attempts through the foreign keys; these indexes let
-- SQLite find them without reading the whole tables, and old messages without a scan.

CREATE INDEX notify_messages_by_time ON notify_messages (at_ms);
CREATE INDEX notify_deliveries_by_message ON notify_deliveries (message_id);
CREATE INDEX notify_attempts_by_delivery ON notify_attempts (delivery_id);
