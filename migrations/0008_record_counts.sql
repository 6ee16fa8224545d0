-- Stored record counts per practice and record type, kept by triggers, so
-- that ListPractices reads a few rows instead of counting every table:
-- counting took seconds per call once a registry held millions of records,
-- and a quarter of a busy server's database time.
--
-- Each inserting statement adds one row per practice (no row is updated,
-- so concurrent imports of one practice never wait on each other);
-- CompactRecordCounts folds the rows into one per practice and type.
-- Records are never deleted; TRUNCATE (bulk reloads) clears the type's counts.
CREATE TABLE record_counts (
    tin  text   NOT NULL,
    kind text   NOT NULL,
    n    bigint NOT NULL
);
CREATE INDEX record_counts_tin ON record_counts (tin);

CREATE FUNCTION record_counts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO record_counts (tin, kind, n) SELECT tin, TG_ARGV[0], count(*) FROM inserted GROUP BY tin;
    RETURN NULL;
END $$;

CREATE FUNCTION record_counts_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM record_counts WHERE kind = TG_ARGV[0];
    RETURN NULL;
END $$;

DO $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT * FROM (VALUES ('patients', 'patient'), ('encounters', 'encounter'), ('procedures', 'procedure'),
        ('conditions', 'condition'), ('medications', 'medication'), ('quality_codes', 'qualityCode'),
        ('coverages', 'coverage'), ('institutional_flags', 'institutionalFlag')) AS v (tbl, kind)
    LOOP
        EXECUTE format('INSERT INTO record_counts (tin, kind, n) SELECT tin, %L, count(*) FROM %I GROUP BY tin', t.kind, t.tbl);
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION record_counts_inserted(%L)',
            t.tbl || '_counted', t.tbl, t.kind);
        EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION record_counts_truncated(%L)',
            t.tbl || '_count_cleared', t.tbl, t.kind);
    END LOOP;
END $$;
