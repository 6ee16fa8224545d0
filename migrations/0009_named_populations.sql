-- Results that are not only proportions (issue 16): populations are stored
-- by name, never by a Go constant's position; counts are a JSON object
-- keyed by population name; a case may carry an observation (days, a PDC)
-- and, for ratio measures, events and person-years; totals and aggregates
-- keep the observations' distribution and the events and person-time.
-- Runs stored before keep their results: every row is rewritten here.

-- Cases: the bitmask (bit i = population i in eCQM order, as written by
-- migration 0002's engine) becomes the array of names.
ALTER TABLE evaluation_cases ADD COLUMN population_names text[];
UPDATE evaluation_cases SET population_names = ARRAY(
    SELECT p.name FROM unnest(ARRAY['initialPopulation', 'denominator', 'denominatorExclusion', 'numerator',
        'denominatorException', 'performanceNotMet']) WITH ORDINALITY AS p (name, bit)
    WHERE populations::int & (1 << (p.bit::int - 1)) <> 0 ORDER BY p.bit);
ALTER TABLE evaluation_cases DROP COLUMN populations;
ALTER TABLE evaluation_cases RENAME COLUMN population_names TO populations;
ALTER TABLE evaluation_cases ALTER COLUMN populations SET NOT NULL;
ALTER TABLE evaluation_cases
    ADD COLUMN observation  double precision, -- NULL: the case has none
    ADD COLUMN events       integer NOT NULL DEFAULT 0,
    ADD COLUMN person_years double precision NOT NULL DEFAULT 0;

-- Totals (on the run) and aggregates share one set of columns.
ALTER TABLE evaluation_runs
    ADD COLUMN scoring            text NOT NULL DEFAULT 'proportion',
    ADD COLUMN counts             jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN observation_n      bigint NOT NULL DEFAULT 0,
    ADD COLUMN observation_sum    double precision NOT NULL DEFAULT 0,
    ADD COLUMN observation_median double precision,
    ADD COLUMN observation_q1     double precision,
    ADD COLUMN observation_q3     double precision,
    ADD COLUMN events             bigint NOT NULL DEFAULT 0,
    ADD COLUMN person_years       double precision NOT NULL DEFAULT 0;
UPDATE evaluation_runs SET counts = jsonb_build_object('initialPopulation', initial_population, 'denominator', denominator,
    'denominatorExclusion', denominator_exclusion, 'denominatorException', denominator_exception,
    'numerator', numerator, 'performanceNotMet', performance_not_met);
ALTER TABLE evaluation_runs DROP COLUMN initial_population, DROP COLUMN denominator, DROP COLUMN denominator_exclusion,
    DROP COLUMN denominator_exception, DROP COLUMN numerator, DROP COLUMN performance_not_met;

ALTER TABLE evaluation_aggregates
    ADD COLUMN counts             jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN observation_n      bigint NOT NULL DEFAULT 0,
    ADD COLUMN observation_sum    double precision NOT NULL DEFAULT 0,
    ADD COLUMN observation_median double precision,
    ADD COLUMN observation_q1     double precision,
    ADD COLUMN observation_q3     double precision,
    ADD COLUMN events             bigint NOT NULL DEFAULT 0,
    ADD COLUMN person_years       double precision NOT NULL DEFAULT 0;
UPDATE evaluation_aggregates SET counts = jsonb_build_object('initialPopulation', initial_population, 'denominator', denominator,
    'denominatorExclusion', denominator_exclusion, 'denominatorException', denominator_exception,
    'numerator', numerator, 'performanceNotMet', performance_not_met);
ALTER TABLE evaluation_aggregates DROP COLUMN initial_population, DROP COLUMN denominator, DROP COLUMN denominator_exclusion,
    DROP COLUMN denominator_exception, DROP COLUMN numerator, DROP COLUMN performance_not_met;
