-- MIPS #418 (2025-2027), as an analyst would compute it in one set-based query:
-- the counts Liaison's engine reports for mips-418@<year>, from the same
-- tables. Code lists come in as parameters, each entry 'SYSTEM|CODE':
--   $1 fracture diagnoses          $2 option-00 encounter codes (not at POS 21)
--   $3 option-01 surgery codes     $4 BMD tests
--   $5 osteoporosis medications    $6 palliative-care diagnoses
--   $7, $8 the performance period  $9, $10 the fracture intake period
-- Quality-data codes, their categories, modifiers and ages are the 2024
-- CMS list (measures/mips-418/2024/cms.yaml), written out below; 2025's and
-- 2026's (carried forward) are the same; internal/api's
-- TestSQLBaselineAgreesWithTheRun holds the two to the same counts.
WITH
fracture_dx AS (SELECT DISTINCT unnest($1::text[]) AS code),
visit_00 AS (SELECT DISTINCT unnest($2::text[]) AS code),
surgery_01 AS (SELECT DISTINCT unnest($3::text[]) AS code),
bmd AS (SELECT DISTINCT unnest($4::text[]) AS code),
osteo_drug AS (SELECT DISTINCT unnest($5::text[]) AS code),
palliative AS (SELECT DISTINCT unnest($6::text[]) AS code),
qdc_def (cat, code, modifier, min_age, max_age) AS (VALUES
    ('met', 'CPT|3095F', NULL, 50, 85), ('met', 'HCPCS|G8633', NULL, 50, 85),
    ('notmet', 'CPT|3095F', '8P', 50, 85), ('notmet', 'HCPCS|G8635', NULL, 50, 85),
    ('excl', 'HCPCS|G0048', NULL, 50, 85), ('excl', 'HCPCS|G2125', NULL, 81, NULL), ('excl', 'HCPCS|G2126', NULL, 66, 80),
    ('excl', 'HCPCS|G2127', NULL, 66, 80), ('excl', 'HCPCS|G9768', NULL, 50, 85), ('excl', 'HCPCS|G9769', NULL, 50, 85),
    ('excl', 'HCPCS|G9938', NULL, 66, NULL)
),
women AS (
    SELECT tin, source_id AS pid, birth_date FROM patients WHERE sex = 'F'
),
-- Every encounter diagnosis and billed line, one row each (the parallel
-- arrays unnest in step), so code lists join by hash.
dx AS (
    SELECT tin, patient_id AS pid, source_id, start_date AS d, unnest(dx_systems) || '|' || unnest(dx_codes) AS code
    FROM encounters
),
line AS (
    SELECT tin, patient_id AS pid, source_id, start_date AS d, pos,
           unnest(line_systems) || '|' || unnest(line_codes) AS code, unnest(line_modifiers) AS mods
    FROM encounters
),
-- Encounters with a fracture diagnosis, and those of them that qualify:
-- an option-00 visit not at POS 21, or an option-01 surgery.
fracture_encounter AS (
    SELECT DISTINCT dx.tin, dx.pid, dx.source_id, dx.d FROM dx JOIN fracture_dx USING (code)
),
qualifying AS (
    SELECT DISTINCT l.tin, l.pid, l.source_id, l.d
    FROM line l
    JOIN fracture_encounter f USING (tin, source_id)
    LEFT JOIN visit_00 v ON v.code = l.code
    LEFT JOIN surgery_01 s ON s.code = l.code
    WHERE (v.code IS NOT NULL AND l.pos <> '21') OR s.code IS NOT NULL
),
-- Every dated fracture: an encounter diagnosis or a condition.
fracture AS (
    SELECT DISTINCT o.tin, o.pid, o.d FROM (
        SELECT tin, pid, d FROM fracture_encounter
        UNION ALL
        SELECT c.tin, c.patient_id, c.onset_date FROM conditions c JOIN fracture_dx f ON f.code = c.code_system || '|' || c.code
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
-- encounter in the period with the woman 50-85 on its date. Due is the
-- numerator window's last day: "in the 180 days after the fracture" from
-- 2025 (measures/mips-418/2025-2027 spec.yaml, numerator.window
-- [index, index+180d]; X <= d <= X+180, DESIGN.md's temporal contract), not
-- 2024's "six months after" (+6 calendar months, up to day 184).
cases AS (
    SELECT DISTINCT ON (x.tin, x.pid, x.start)
        x.tin, x.pid, x.start AS idx, x.start + 180 AS due,
        least($8::date, x.span_end) AS qdc_end,
        date_part('year', age(q.d, w.birth_date)) AS age_at_encounter
    FROM episode x
    JOIN women w ON w.tin = x.tin AND w.pid = x.pid
    JOIN qualifying q ON q.tin = x.tin AND q.pid = x.pid
    WHERE x.start BETWEEN $9::date AND $10::date
      AND q.d BETWEEN greatest(x.start, $7::date) AND least(x.span_end, $8::date)
      AND date_part('year', age(q.d, w.birth_date)) BETWEEN 50 AND 85
    ORDER BY x.tin, x.pid, x.start, q.d, q.source_id
),
-- Quality-data codes as billed on encounter lines or reported on their own,
-- valid for their category's modifier and age rules.
qdc AS (
    SELECT q.tin, q.pid, q.d, def.cat
    FROM (
        SELECT tin, pid, d, code, string_to_array(nullif(mods, ''), ',') AS mods FROM line
        UNION ALL
        SELECT tin, patient_id, date, code_system || '|' || code, modifiers FROM quality_codes
    ) q
    JOIN qdc_def def ON def.code = q.code
    JOIN women w ON w.tin = q.tin AND w.pid = q.pid
    WHERE (CASE WHEN def.modifier IS NULL THEN NOT coalesce(q.mods && ARRAY['1P', '2P', '3P', '8P'], false)
                ELSE def.modifier = ANY(q.mods) END)
      AND date_part('year', age(q.d, w.birth_date)) >= def.min_age
      AND (def.max_age IS NULL OR date_part('year', age(q.d, w.birth_date)) <= def.max_age)
),
-- BMD tests from claim lines and procedure records.
bmd_test AS (
    SELECT tin, pid, d FROM line JOIN bmd USING (code)
    UNION ALL
    SELECT p.tin, p.patient_id, p.date FROM procedures p JOIN bmd b ON b.code = p.code_system || '|' || p.code WHERE NOT p.not_done
),
-- Osteoporosis drugs: medication records (with their supply) and
-- administrations billed as lines or procedures.
drug AS (
    SELECT m.tin, m.patient_id AS pid, m.date AS d, CASE WHEN m.days_supply > 1 THEN m.date + m.days_supply - 1 ELSE m.date END AS d_end
    FROM medications m JOIN osteo_drug o ON o.code = m.code_system || '|' || m.code
    UNION ALL
    SELECT tin, pid, d, d FROM line JOIN osteo_drug USING (code)
    UNION ALL
    SELECT p.tin, p.patient_id, p.date, p.date FROM procedures p JOIN osteo_drug o ON o.code = p.code_system || '|' || p.code WHERE NOT p.not_done
),
palliative_dx AS (
    SELECT tin, pid, d FROM dx JOIN palliative USING (code)
    UNION ALL
    SELECT c.tin, c.patient_id, c.onset_date FROM conditions c JOIN palliative p ON p.code = c.code_system || '|' || c.code
),
-- Cases with an exclusion, and cases met: joins of the cases to the
-- events, by patient and window.
excluded AS (
    SELECT c.tin, c.pid, c.idx FROM cases c JOIN qdc q USING (tin, pid)
    WHERE q.cat = 'excl' AND q.d BETWEEN c.idx AND c.qdc_end
    UNION
    SELECT c.tin, c.pid, c.idx FROM cases c JOIN institutional_flags f ON f.tin = c.tin AND f.patient_id = c.pid
    WHERE f.kind = 'hospice' AND f.start_date <= $8::date AND coalesce(f.end_date, 'infinity') >= $7::date
    UNION
    SELECT c.tin, c.pid, c.idx FROM cases c JOIN bmd_test b USING (tin, pid)
    WHERE b.d BETWEEN c.idx - 730 AND c.idx - 1
    UNION
    SELECT c.tin, c.pid, c.idx FROM cases c JOIN drug g USING (tin, pid)
    WHERE g.d <= c.idx - 1 AND g.d_end >= c.idx - 365
    UNION
    SELECT c.tin, c.pid, c.idx FROM cases c JOIN institutional_flags f ON f.tin = c.tin AND f.patient_id = c.pid
    WHERE c.age_at_encounter >= 66 AND f.kind = 'long_term_institution'
      AND least(coalesce(f.end_date, 'infinity'), $8::date) - greatest(f.start_date, $9::date) + 1 >= 91
    UNION
    SELECT c.tin, c.pid, c.idx FROM cases c JOIN palliative_dx p USING (tin, pid)
    WHERE p.d BETWEEN $9::date AND $8::date
),
met AS (
    SELECT c.tin, c.pid, c.idx FROM cases c JOIN qdc q USING (tin, pid)
    WHERE q.cat = 'met' AND q.d BETWEEN c.idx AND c.qdc_end
    UNION
    SELECT c.tin, c.pid, c.idx FROM cases c JOIN bmd_test b USING (tin, pid)
    WHERE b.d BETWEEN c.idx AND c.due
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
