-- Each audit event keeps the id of its request (x-request-id: the client's
-- own, or one the server made), the id its log lines and its error answer
-- carry, so an error a client reports leads to its event and log lines.
-- Events written before this column have ''.
ALTER TABLE audit_events ADD COLUMN request_id text NOT NULL DEFAULT '';
CREATE INDEX audit_events_request ON audit_events (request_id) WHERE request_id <> '';
