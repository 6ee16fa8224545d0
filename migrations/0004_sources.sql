-- Real exports: records of one patient arrive from several sources (an EHR
-- export, a claims extract, a pharmacy feed) and are merged, not refused.
--
-- origin: where each record was read (a file and line, a message id), as the
-- sender gave it, so a merged patient's records can be traced to their
-- source. Not read by evaluation runs.
--
-- patients.birth_precision: FHIR allows partial birth dates ("1950-06",
-- "1950"); birth_date holds the first day such a date allows and this its
-- precision (0 day, 1 month, 2 year), so an age is counted only when it holds
-- for every day the partial date allows.
--
-- medications.display: the drug's name as sent, matched by ingredient name
-- when no code list knows the code.
--
-- practices.time_zone: '' now means "no zone": a datetime keeps the date it
-- was written with (the temporal contract). Practices already stored keep
-- the zone they have ('UTC' included), so stored dates do not change meaning.

ALTER TABLE practices ALTER COLUMN time_zone SET DEFAULT '';
ALTER TABLE patients ADD COLUMN birth_precision smallint NOT NULL DEFAULT 0 CHECK (birth_precision BETWEEN 0 AND 2);
ALTER TABLE medications ADD COLUMN display text NOT NULL DEFAULT '';

ALTER TABLE patients ADD COLUMN origin text NOT NULL DEFAULT '';
ALTER TABLE encounters ADD COLUMN origin text NOT NULL DEFAULT '';
ALTER TABLE procedures ADD COLUMN origin text NOT NULL DEFAULT '';
ALTER TABLE conditions ADD COLUMN origin text NOT NULL DEFAULT '';
ALTER TABLE medications ADD COLUMN origin text NOT NULL DEFAULT '';
ALTER TABLE quality_codes ADD COLUMN origin text NOT NULL DEFAULT '';
ALTER TABLE coverages ADD COLUMN origin text NOT NULL DEFAULT '';
ALTER TABLE institutional_flags ADD COLUMN origin text NOT NULL DEFAULT '';
