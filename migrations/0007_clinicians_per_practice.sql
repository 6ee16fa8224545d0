-- A clinician's details (name, specialty) are what a practice says of them:
-- one practice can no longer rename another's clinician. Rows are kept per
-- sending practice (tin '' for the registry's operator); the NPI, a
-- national identifier, stays the same fact everywhere.
ALTER TABLE clinicians ADD COLUMN tin text NOT NULL DEFAULT '';
ALTER TABLE clinicians DROP CONSTRAINT clinicians_pkey;
ALTER TABLE clinicians ADD PRIMARY KEY (tin, npi);
