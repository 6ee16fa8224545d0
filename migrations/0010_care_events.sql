-- Fracture-liaison care events (issue 16 part 2): FLS assessments,
-- fracture-risk and falls assessments, falls and strength-and-balance
-- referrals, decisions on anti-osteoporosis medication, monitoring contacts
-- and where the patient lives. One table for every kind: fields beyond the
-- key, kind and date apply to some kinds only (ingest checks which) and are
-- empty ('' or NULL) on the others.
CREATE TABLE care_events (
    tin          text NOT NULL,
    source_id    text NOT NULL,
    patient_id   text NOT NULL,
    kind         text NOT NULL,
    date         date NOT NULL,
    end_date     date,             -- residence: until when; NULL open-ended
    npi          text NOT NULL DEFAULT '',
    service      text NOT NULL DEFAULT '',
    tool         text NOT NULL DEFAULT '', -- fracture-risk assessment: frax, qfracture, garvan, other
    score        double precision, -- fracture-risk assessment: 10-year probability in percent
    on_treatment boolean,          -- monitoring contact: on AOM then; NULL not stated
    residence    text NOT NULL DEFAULT '', -- care_home, own_home, other
    reason       text NOT NULL DEFAULT '',
    code_system  text NOT NULL DEFAULT '',
    code         text NOT NULL DEFAULT '',
    display      text NOT NULL DEFAULT '',
    origin       text NOT NULL DEFAULT '',
    batch_id     bigint NOT NULL,
    PRIMARY KEY (tin, source_id)
);
CREATE INDEX care_events_patient ON care_events (tin, patient_id, source_id);

-- Counted per practice like the other record tables (0008_record_counts).
CREATE TRIGGER care_events_counted AFTER INSERT ON care_events REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION record_counts_inserted('careEvent');
CREATE TRIGGER care_events_count_cleared AFTER TRUNCATE ON care_events
    FOR EACH STATEMENT EXECUTE FUNCTION record_counts_truncated('careEvent');
