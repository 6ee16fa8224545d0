-- API keys and the audit log. A key's secret is never stored: only a salted
-- argon2id hash of it. The audit log holds who called what, in which
-- practice scope, with what outcome and how many items; never patient data.

CREATE TABLE api_keys (
    id           text PRIMARY KEY,  -- public, the token's prefix
    role         text NOT NULL CHECK (role IN ('operator', 'practice', 'physician')),
    tin          text NOT NULL DEFAULT '',
    npi          text NOT NULL DEFAULT '',
    label        text NOT NULL DEFAULT '',
    salt         bytea NOT NULL,
    hash         bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    revoked_at   timestamptz,
    last_used_at timestamptz,
    CHECK (role = 'operator' OR tin <> ''),
    CHECK (role <> 'physician' OR npi <> ''),
    CHECK (role <> 'operator' OR (tin = '' AND npi = ''))
);

CREATE TABLE audit_events (
    id      bigserial PRIMARY KEY,
    at      timestamptz NOT NULL,
    key_id  text NOT NULL DEFAULT '',
    role    text NOT NULL DEFAULT '',
    method  text NOT NULL,
    tin     text NOT NULL DEFAULT '',
    npi     text NOT NULL DEFAULT '',
    code    text NOT NULL,
    items   bigint NOT NULL DEFAULT 0
);
CREATE INDEX audit_events_key ON audit_events (key_id, id DESC);
CREATE INDEX audit_events_tin ON audit_events (tin, id DESC);
