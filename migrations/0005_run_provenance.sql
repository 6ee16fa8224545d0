-- A run records where its measure version's code lists came from and, for a
-- provisional version (lists or logic carried forward from an earlier year
-- because CMS has not published the year's), why it is provisional. The
-- spec hash pins the files; these say in words what they were, and stay true
-- for the run after the version is regenerated from CMS's final data.
-- Runs before this migration have none: every version then was final.
ALTER TABLE evaluation_runs
    ADD COLUMN sources text[] NOT NULL DEFAULT '{}',
    ADD COLUMN provisional text[] NOT NULL DEFAULT '{}';
