-- Clinical records as practices send them. Every table of practice data
-- carries the practice's TIN first: it is the tenant key (queries are scoped
-- by it, and it is the distribution column if the data is ever sharded).
-- Records are keyed by (tin, source_id), the id the practice's system gave.
--
-- References from a record to its patient are checked by ingest inside the
-- writing transaction (every reference must resolve within the TIN, in the
-- request or already stored), and records are never deleted, so the child
-- tables carry no foreign keys: a per-row RI trigger would double the cost
-- of bulk COPY for no added guarantee.

CREATE TABLE practices (
    tin        text PRIMARY KEY CHECK (tin ~ '^[0-9]{9}$'),
    name       text NOT NULL DEFAULT '',
    time_zone  text NOT NULL DEFAULT 'UTC',
    batch_id   bigint NOT NULL
);

CREATE TABLE clinicians (
    npi        text PRIMARY KEY CHECK (npi ~ '^[0-9]{10}$'),
    name       text NOT NULL DEFAULT '',
    specialty  text NOT NULL DEFAULT '',
    batch_id   bigint NOT NULL
);

-- One row per committed ingest request: the data cut-off of an evaluation is
-- the highest batch id committed when it starts.
CREATE TABLE ingest_batches (
    id           bigserial PRIMARY KEY,
    committed_at timestamptz NOT NULL DEFAULT now(),
    mode         text NOT NULL,
    received     bigint NOT NULL,
    stored       bigint NOT NULL,
    rejected     bigint NOT NULL
);

CREATE TABLE patients (
    tin         text NOT NULL REFERENCES practices,
    source_id   text NOT NULL,
    birth_date  date NOT NULL,
    sex         text NOT NULL,
    race        text[] NOT NULL DEFAULT '{}',
    ethnicity   text NOT NULL DEFAULT '',
    payer_type  text NOT NULL DEFAULT '',
    death_date  date,
    batch_id    bigint NOT NULL,
    PRIMARY KEY (tin, source_id)
);

CREATE TABLE encounters (
    tin            text NOT NULL,
    source_id      text NOT NULL,
    patient_id     text NOT NULL,
    rendering_npi  text NOT NULL DEFAULT '',
    start_date     date NOT NULL,
    end_date       date,
    start_at       timestamptz,
    end_at         timestamptz,
    class          text NOT NULL DEFAULT '',
    pos            text NOT NULL DEFAULT '',
    -- Billed lines and diagnoses as parallel arrays (element i of each
    -- describes line i / diagnosis i, in claim order): cheap to decode in
    -- bulk and easy to query with unnest() or && from plain SQL.
    line_systems   text[] NOT NULL DEFAULT '{}',
    line_codes     text[] NOT NULL DEFAULT '{}',
    line_modifiers text[] NOT NULL DEFAULT '{}', -- comma-separated per line, e.g. '8P' or ''
    dx_systems     text[] NOT NULL DEFAULT '{}',
    dx_codes       text[] NOT NULL DEFAULT '{}',
    discharge_date date,
    batch_id       bigint NOT NULL,
    PRIMARY KEY (tin, source_id)
);
CREATE INDEX encounters_patient ON encounters (tin, patient_id);

CREATE TABLE procedures (
    tin           text NOT NULL,
    source_id     text NOT NULL,
    patient_id    text NOT NULL,
    code_system   text NOT NULL,
    code          text NOT NULL,
    date          date NOT NULL,
    npi           text NOT NULL DEFAULT '',
    encounter_id  text NOT NULL DEFAULT '',
    not_done      boolean NOT NULL DEFAULT false,
    batch_id      bigint NOT NULL,
    PRIMARY KEY (tin, source_id)
);
CREATE INDEX procedures_patient ON procedures (tin, patient_id);

CREATE TABLE conditions (
    tin           text NOT NULL,
    source_id     text NOT NULL,
    patient_id    text NOT NULL,
    code_system   text NOT NULL,
    code          text NOT NULL,
    onset_date    date NOT NULL,
    encounter_id  text NOT NULL DEFAULT '',
    batch_id      bigint NOT NULL,
    PRIMARY KEY (tin, source_id)
);
CREATE INDEX conditions_patient ON conditions (tin, patient_id);

CREATE TABLE medications (
    tin           text NOT NULL,
    source_id     text NOT NULL,
    patient_id    text NOT NULL,
    kind          text NOT NULL,
    code_system   text NOT NULL,
    code          text NOT NULL,
    date          date NOT NULL,
    days_supply   integer NOT NULL DEFAULT 0 CHECK (days_supply >= 0),
    quantity      double precision NOT NULL DEFAULT 0,
    npi           text NOT NULL DEFAULT '',
    batch_id      bigint NOT NULL,
    PRIMARY KEY (tin, source_id)
);
CREATE INDEX medications_patient ON medications (tin, patient_id);

CREATE TABLE quality_codes (
    tin           text NOT NULL,
    source_id     text NOT NULL,
    patient_id    text NOT NULL,
    code_system   text NOT NULL,
    code          text NOT NULL,
    modifiers     text[] NOT NULL DEFAULT '{}',
    date          date NOT NULL,
    npi           text NOT NULL DEFAULT '',
    encounter_id  text NOT NULL DEFAULT '',
    batch_id      bigint NOT NULL,
    PRIMARY KEY (tin, source_id)
);
CREATE INDEX quality_codes_patient ON quality_codes (tin, patient_id);

CREATE TABLE coverages (
    tin           text NOT NULL,
    source_id     text NOT NULL,
    patient_id    text NOT NULL,
    start_date    date NOT NULL,
    end_date      date,
    payer_type    text NOT NULL DEFAULT '',
    batch_id      bigint NOT NULL,
    PRIMARY KEY (tin, source_id)
);
CREATE INDEX coverages_patient ON coverages (tin, patient_id);

CREATE TABLE institutional_flags (
    tin           text NOT NULL,
    source_id     text NOT NULL,
    patient_id    text NOT NULL,
    kind          text NOT NULL,
    start_date    date NOT NULL,
    end_date      date,
    batch_id      bigint NOT NULL,
    PRIMARY KEY (tin, source_id)
);
CREATE INDEX institutional_flags_patient ON institutional_flags (tin, patient_id);
