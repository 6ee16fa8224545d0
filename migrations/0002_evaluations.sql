-- Evaluation runs and their results. A run's results are written in the
-- same transaction that marks it succeeded, so a run is either complete or
-- has no results; results of a finished run never change.

CREATE TABLE evaluation_runs (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    measure_key       text NOT NULL,              -- "<measure>@<version>"
    tins              text[] NOT NULL DEFAULT '{}', -- empty: every practice
    status            text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    error             text NOT NULL DEFAULT '',
    attempts          integer NOT NULL DEFAULT 0,
    created_at        timestamptz NOT NULL DEFAULT now(),
    started_at        timestamptz,
    finished_at       timestamptz,
    patients_total    bigint NOT NULL DEFAULT 0,
    patients_done     bigint NOT NULL DEFAULT 0,
    -- Provenance.
    spec_hash         text NOT NULL,
    software_version  text NOT NULL,
    data_cutoff_batch bigint,       -- highest ingest batch the run's snapshot saw
    data_cutoff_at    timestamptz,  -- when that batch committed
    -- The six population counts over the whole run.
    initial_population    bigint NOT NULL DEFAULT 0,
    denominator           bigint NOT NULL DEFAULT 0,
    denominator_exclusion bigint NOT NULL DEFAULT 0,
    denominator_exception bigint NOT NULL DEFAULT 0,
    numerator             bigint NOT NULL DEFAULT 0,
    performance_not_met   bigint NOT NULL DEFAULT 0
);
CREATE INDEX evaluation_runs_measure ON evaluation_runs (measure_key, created_at DESC);

CREATE TABLE evaluation_cases (
    tin          text NOT NULL,
    run_id       uuid NOT NULL REFERENCES evaluation_runs ON DELETE CASCADE,
    case_id      text NOT NULL,
    patient_id   text NOT NULL,
    npi          text NOT NULL DEFAULT '',
    index_date   date NOT NULL,
    due_date     date NOT NULL,
    populations  smallint NOT NULL, -- bit i set: population i in eCQM order (see internal/measure)
    evidence     jsonb NOT NULL DEFAULT '[]',
    PRIMARY KEY (tin, run_id, case_id)
);
-- Worklists: a run's cases by practice and clinician in due-date order.
CREATE INDEX evaluation_cases_worklist ON evaluation_cases (run_id, tin, npi, due_date);

CREATE TABLE evaluation_aggregates (
    run_id        uuid NOT NULL REFERENCES evaluation_runs ON DELETE CASCADE,
    level         text NOT NULL CHECK (level IN ('tin', 'tin_npi', 'stratum')),
    tin           text NOT NULL,
    npi           text NOT NULL DEFAULT '', -- strata: '' for the practice, else the clinician's
    stratum       text NOT NULL DEFAULT '', -- sex, race, ethnicity, payer
    stratum_value text NOT NULL DEFAULT '',
    initial_population    bigint NOT NULL,
    denominator           bigint NOT NULL,
    denominator_exclusion bigint NOT NULL,
    denominator_exception bigint NOT NULL,
    numerator             bigint NOT NULL,
    performance_not_met   bigint NOT NULL,
    PRIMARY KEY (run_id, level, tin, npi, stratum, stratum_value)
);
