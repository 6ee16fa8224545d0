-- MIPS #418 (2024), as an analyst would compute it in one set-based query:
-- the counts Liaison's engine reports for mips-418@2024, from the same
-- tables. Code lists come in as parameters, each entry 'SYSTEM|CODE':
--   $1 fracture diagnoses          $2 option-00 encounter codes (not at POS 21)
--   $3 option-01 surgery codes     $4 BMD tests
--   $5 osteoporosis medications    $6 palliative-care diagnoses
-- Quality-data codes, their categories, modifiers and ages are the 2024
-- CMS list (measures/mips-418/2024/cms.yaml), written out below.
WITH
women AS (
    SELECT tin, source_id AS pid, birth_date FROM patients WHERE sex = 'F'
),
-- Every dated fracture: an encounter diagnosis or a condition.
fracture AS (
    SELECT DISTINCT o.tin, o.pid, o.d FROM (
        SELECT e.tin, e.patient_id AS pid, e.start_date AS d
        FROM encounters e CROSS JOIN LATERAL unnest(e.dx_systems, e.dx_codes) AS x(s, c)
        WHERE x.s || '|' || x.c = ANY($1)
        UNION ALL
        SELECT tin, patient_id, onset_date FROM conditions WHERE code_system || '|' || code = ANY($1)
    ) o JOIN women w ON w.tin = o.tin AND w.pid = o.pid
),
-- A fracture with none in the 60 days before it starts an episode, which
-- lasts until the next one starts.
episode AS (
    SELECT tin, pid, d AS start, coalesce(lead(d) OVER (PARTITION BY tin, pid ORDER BY d) - 1, 'infinity') AS span_end
    FROM (SELECT tin, pid, d, lag(d) OVER (PARTITION BY tin, pid ORDER BY d) AS prev FROM fracture) f
    WHERE prev IS NULL OR d - prev > 60
),
-- Fracture in the intake window, and the episode's first qualifying
-- encounter in 2024 with the woman 50-85 on its date.
cases AS (
    SELECT DISTINCT ON (x.tin, x.pid, x.start)
        x.tin, x.pid, x.start AS idx, (x.start + interval '6 months')::date AS due,
        least(date '2024-12-31', x.span_end) AS qdc_end,
        date_part('year', age(e.start_date, w.birth_date)) AS age_at_encounter, w.birth_date
    FROM episode x
    JOIN women w ON w.tin = x.tin AND w.pid = x.pid
    JOIN encounters e ON e.tin = x.tin AND e.patient_id = x.pid
    WHERE x.start BETWEEN date '2023-07-01' AND date '2024-06-30'
      AND e.start_date BETWEEN greatest(x.start, date '2024-01-01') AND least(x.span_end, date '2024-12-31')
      AND date_part('year', age(e.start_date, w.birth_date)) BETWEEN 50 AND 85
      AND EXISTS (SELECT 1 FROM unnest(e.dx_systems, e.dx_codes) AS d(s, c) WHERE d.s || '|' || d.c = ANY($1))
      AND EXISTS (SELECT 1 FROM unnest(e.line_systems, e.line_codes) AS l(s, c)
                  WHERE (l.s || '|' || l.c = ANY($2) AND e.pos <> '21') OR l.s || '|' || l.c = ANY($3))
    ORDER BY x.tin, x.pid, x.start, e.start_date, e.source_id
),
qdc_def (cat, code, modifier, min_age, max_age) AS (VALUES
    ('met', '3095F', NULL, 50, 85), ('met', 'G8633', NULL, 50, 85),
    ('notmet', '3095F', '8P', 50, 85), ('notmet', 'G8635', NULL, 50, 85),
    ('excl', 'G0048', NULL, 50, 85), ('excl', 'G2125', NULL, 81, NULL), ('excl', 'G2126', NULL, 66, 80),
    ('excl', 'G2127', NULL, 66, 80), ('excl', 'G9768', NULL, 50, 85), ('excl', 'G9769', NULL, 50, 85),
    ('excl', 'G9938', NULL, 66, NULL)
),
-- Quality-data codes as billed on encounter lines or reported on their own.
qdc AS (
    SELECT e.tin, e.patient_id AS pid, e.start_date AS d, l.c AS code, string_to_array(nullif(l.m, ''), ',') AS mods
    FROM encounters e CROSS JOIN LATERAL unnest(e.line_codes, e.line_modifiers) AS l(c, m)
    WHERE l.c IN (SELECT code FROM qdc_def)
    UNION ALL
    SELECT tin, patient_id, date, code, modifiers FROM quality_codes WHERE code IN (SELECT code FROM qdc_def)
),
qdc_valid AS (
    SELECT q.tin, q.pid, q.d, def.cat
    FROM qdc q
    JOIN qdc_def def ON def.code = q.code
    JOIN women w ON w.tin = q.tin AND w.pid = q.pid
    WHERE (CASE WHEN def.modifier IS NULL THEN NOT coalesce(q.mods && ARRAY['1P', '2P', '3P', '8P'], false)
                ELSE def.modifier = ANY(q.mods) END)
      AND date_part('year', age(q.d, w.birth_date)) >= def.min_age
      AND (def.max_age IS NULL OR date_part('year', age(q.d, w.birth_date)) <= def.max_age)
),
-- Procedures (BMD tests, drug administrations) from claim lines and procedure records.
proc AS (
    SELECT e.tin, e.patient_id AS pid, e.start_date AS d, l.s || '|' || l.c AS code
    FROM encounters e CROSS JOIN LATERAL unnest(e.line_systems, e.line_codes) AS l(s, c)
    WHERE l.s || '|' || l.c = ANY($4) OR l.s || '|' || l.c = ANY($5)
    UNION ALL
    SELECT tin, patient_id, date, code_system || '|' || code FROM procedures
    WHERE NOT not_done AND (code_system || '|' || code = ANY($4) OR code_system || '|' || code = ANY($5))
),
-- Osteoporosis drugs: medication records (with their supply) and administrations.
drug AS (
    SELECT tin, patient_id AS pid, date AS d,
           CASE WHEN days_supply > 1 THEN date + days_supply - 1 ELSE date END AS d_end
    FROM medications WHERE code_system || '|' || code = ANY($5)
    UNION ALL
    SELECT tin, pid, d, d FROM proc WHERE code = ANY($5)
),
decided AS (
    SELECT c.*,
        EXISTS (SELECT 1 FROM qdc_valid q WHERE q.tin = c.tin AND q.pid = c.pid AND q.cat = 'excl' AND q.d BETWEEN c.idx AND c.qdc_end)
        OR EXISTS (SELECT 1 FROM institutional_flags f WHERE f.tin = c.tin AND f.patient_id = c.pid AND f.kind = 'hospice'
                   AND f.start_date <= date '2024-12-31' AND coalesce(f.end_date, 'infinity') >= date '2024-01-01')
        OR EXISTS (SELECT 1 FROM proc p WHERE p.tin = c.tin AND p.pid = c.pid AND p.code = ANY($4) AND p.d BETWEEN c.idx - 730 AND c.idx - 1)
        OR EXISTS (SELECT 1 FROM drug g WHERE g.tin = c.tin AND g.pid = c.pid AND g.d <= c.idx - 1 AND g.d_end >= c.idx - 365)
        OR (c.age_at_encounter >= 66 AND EXISTS (
               SELECT 1 FROM institutional_flags f WHERE f.tin = c.tin AND f.patient_id = c.pid AND f.kind = 'long_term_institution'
               AND least(coalesce(f.end_date, 'infinity'), date '2024-12-31') - greatest(f.start_date, date '2023-07-01') + 1 >= 91))
        OR EXISTS (SELECT 1 FROM (
               SELECT e.start_date AS d FROM encounters e CROSS JOIN LATERAL unnest(e.dx_systems, e.dx_codes) AS x(s, cd)
               WHERE e.tin = c.tin AND e.patient_id = c.pid AND x.s || '|' || x.cd = ANY($6)
               UNION ALL
               SELECT onset_date FROM conditions k WHERE k.tin = c.tin AND k.patient_id = c.pid AND k.code_system || '|' || k.code = ANY($6)
           ) pal WHERE pal.d BETWEEN date '2023-07-01' AND date '2024-12-31') AS excluded,
        EXISTS (SELECT 1 FROM qdc_valid q WHERE q.tin = c.tin AND q.pid = c.pid AND q.cat = 'met' AND q.d BETWEEN c.idx AND c.qdc_end)
        OR EXISTS (SELECT 1 FROM proc p WHERE p.tin = c.tin AND p.pid = c.pid AND p.code = ANY($4) AND p.d BETWEEN c.idx AND c.due)
        OR EXISTS (SELECT 1 FROM drug g WHERE g.tin = c.tin AND g.pid = c.pid AND g.d BETWEEN c.idx AND c.due) AS met
    FROM cases c
)
SELECT count(*) AS initial_population,
       count(*) AS denominator,
       count(*) FILTER (WHERE excluded) AS denominator_exclusion,
       0 AS denominator_exception,
       count(*) FILTER (WHERE NOT excluded AND met) AS numerator,
       count(*) FILTER (WHERE NOT excluded AND NOT met) AS performance_not_met
FROM decided
