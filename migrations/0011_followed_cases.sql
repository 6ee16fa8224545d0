-- Time-to-event measures (issue 16: time to treatment, refracture): a case
-- says how its follow-up ended and after how many days, and which values of
-- its measure's own strata (age band, index site...) it has; totals and
-- aggregates keep the cumulative incidence at the measure's horizons and
-- weekly. Runs stored before follow no cases: empty values.
ALTER TABLE evaluation_cases
    ADD COLUMN outcome   text NOT NULL DEFAULT '', -- '' | event | competing | censored
    ADD COLUMN follow_up integer NOT NULL DEFAULT 0, -- days from the index date to the outcome
    ADD COLUMN strata    jsonb NOT NULL DEFAULT '[]';
ALTER TABLE evaluation_runs ADD COLUMN incidence jsonb NOT NULL DEFAULT '[]';
ALTER TABLE evaluation_aggregates ADD COLUMN incidence jsonb NOT NULL DEFAULT '[]';
