-- MIPS #418 (2024), as an analyst would compute it in one set-based query:
-- the counts Liaison's engine reports for mips-418@2024, from the same
-- tables. Code lists come in as parameters, each entry 'SYSTEM|CODE':
--   $1 fracture diagnoses          $2 option-00 encounter codes (not at POS 21)
--   $3 option-01 surgery codes     $4 BMD tests
--   $5 osteoporosis medications    $6 palliative-care diagnoses
-- Quality-data codes, their categories, modifiers and ages are the 2024
-- CMS list (measures/mips-418/2024/cms.yaml), written out below.
WITH
-- The code lists as tables, so matching a code is a hash lookup.
fracture_dx AS (SELECT unnest($1::text[]) AS code),
visit_00 AS (SELECT unnest($2::text[]) AS code),
surgery_01 AS (SELECT unnest($3::text[]) AS code),
bmd AS (SELECT unnest($4::text[]) AS code),
osteo_drug AS (SELECT unnest($5::text[]) AS code),
palliative AS (SELECT unnest($6::text[]) AS code),
women AS (
    SELECT tin, source_id AS pid, birth_date FROM patients WHERE sex = 'F'
),
-- Every dated fracture: an encounter diagnosis or a condition.
fracture AS (
    SELECT DISTINCT o.tin, o.pid, o.d FROM (
        SELECT e.tin, e.patient_id AS pid, e.start_date AS d
        FROM encounters e CROSS JOIN LATERAL unnest(e.dx_systems, e.dx_codes) AS x(s, c)
        WHERE x.s || '|' || x.c IN (SELECT code FROM fracture_dx)
        UNION ALL
        SELECT tin, patient_id, onset_date FROM conditions WHERE code_system || '|' || code IN (SELECT code FROM fracture_dx)
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
      AND EXISTS (SELECT 1 FROM unnest(e.dx_systems, e.dx_codes) AS d(s, c) WHERE d.s || '|' || d.c IN (SELECT code FROM fracture_dx))
      AND EXISTS (SELECT 1 FROM unnest(e.line_systems, e.line_codes) AS l(s, c)
                  WHERE (l.s || '|' || l.c IN (SELECT code FROM visit_00) AND e.pos <> '21') OR l.s || '|' || l.c IN (SELECT code FROM surgery_01))
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
    WHERE l.s || '|' || l.c IN (SELECT code FROM bmd) OR l.s || '|' || l.c IN (SELECT code FROM osteo_drug)
    UNION ALL
    SELECT tin, patient_id, date, code_system || '|' || code FROM procedures
    WHERE NOT not_done AND (code_system || '|' || code IN (SELECT code FROM bmd) OR code_system || '|' || code IN (SELECT code FROM osteo_drug))
),
-- Osteoporosis drugs: medication records (with their supply) and administrations.
drug AS (
    SELECT tin, patient_id AS pid, date AS d,
           CASE WHEN days_supply > 1 THEN date + days_supply - 1 ELSE date END AS d_end
    FROM medications WHERE code_system || '|' || code IN (SELECT code FROM osteo_drug)
    UNION ALL
    SELECT tin, pid, d, d FROM proc WHERE code IN (SELECT code FROM osteo_drug)
),
-- Cases with an exclusion, and cases met: joins of the cases to the
-- events, by patient and window.
excluded AS (
    SELECT c.tin, c.pid, c.idx FROM cases c JOIN qdc_valid q USING (tin, pid)
    WHERE q.cat = 'excl' AND q.d BETWEEN c.idx AND c.qdc_end
    UNION
    SELECT c.tin, c.pid, c.idx FROM cases c JOIN institutional_flags f ON f.tin = c.tin AND f.patient_id = c.pid
    WHERE f.kind = 'hospice' AND f.start_date <= date '2024-12-31' AND coalesce(f.end_date, 'infinity') >= date '2024-01-01'
    UNION
    SELECT c.tin, c.pid, c.idx FROM cases c JOIN proc p USING (tin, pid)
    WHERE p.code IN (SELECT code FROM bmd) AND p.d BETWEEN c.idx - 730 AND c.idx - 1
    UNION
    SELECT c.tin, c.pid, c.idx FROM cases c JOIN drug g USING (tin, pid)
    WHERE g.d <= c.idx - 1 AND g.d_end >= c.idx - 365
    UNION
    SELECT c.tin, c.pid, c.idx FROM cases c JOIN institutional_flags f ON f.tin = c.tin AND f.patient_id = c.pid
    WHERE c.age_at_encounter >= 66 AND f.kind = 'long_term_institution'
      AND least(coalesce(f.end_date, 'infinity'), date '2024-12-31') - greatest(f.start_date, date '2023-07-01') + 1 >= 91
    UNION
    SELECT c.tin, c.pid, c.idx FROM cases c JOIN (
        SELECT e.tin, e.patient_id AS pid, e.start_date AS d
        FROM encounters e CROSS JOIN LATERAL unnest(e.dx_systems, e.dx_codes) AS x(s, cd) WHERE x.s || '|' || x.cd IN (SELECT code FROM palliative)
        UNION ALL
        SELECT tin, patient_id, onset_date FROM conditions WHERE code_system || '|' || code IN (SELECT code FROM palliative)
    ) pal USING (tin, pid)
    WHERE pal.d BETWEEN date '2023-07-01' AND date '2024-12-31'
),
met AS (
    SELECT c.tin, c.pid, c.idx FROM cases c JOIN qdc_valid q USING (tin, pid)
    WHERE q.cat = 'met' AND q.d BETWEEN c.idx AND c.qdc_end
    UNION
    SELECT c.tin, c.pid, c.idx FROM cases c JOIN proc p USING (tin, pid)
    WHERE p.code IN (SELECT code FROM bmd) AND p.d BETWEEN c.idx AND c.due
    UNION
    SELECT c.tin, c.pid, c.idx FROM cases c JOIN drug g USING (tin, pid)
    WHERE g.d BETWEEN c.idx AND c.due
)
SELECT count(*) AS initial_population,
       count(*) AS denominator,
       count(*) FILTER (WHERE x.tin IS NOT NULL) AS denominator_exclusion,
       0 AS denominator_exception,
       count(*) FILTER (WHERE x.tin IS NULL AND m.tin IS NOT NULL) AS numerator,
       count(*) FILTER (WHERE x.tin IS NULL AND m.tin IS NULL) AS performance_not_met
FROM cases c
LEFT JOIN excluded x USING (tin, pid, idx)
LEFT JOIN met m USING (tin, pid, idx)
