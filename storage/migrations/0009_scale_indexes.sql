-- Scale (100,000 hazards): the first answer of each institution to a warning, for the acknowledgement register of
-- the export and the acknowledgement figures of /stats, is found by (warning, institution) in time order instead
-- of reading and sorting every answer to the warning, once per institution.
CREATE INDEX warning_acks_institution ON warning_acks (warning_id, institution_id, at);
