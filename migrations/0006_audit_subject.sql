-- The audit log answers "who read patient X" and "who read run R": each
-- event names what it read or wrote (subject: "patient:<tin>/<source id>",
-- "run:<id>", ...), and denied calls keep the key id that was presented.
ALTER TABLE audit_events ADD COLUMN subject text NOT NULL DEFAULT '';
CREATE INDEX audit_events_subject ON audit_events (subject, id DESC) WHERE subject <> '';
