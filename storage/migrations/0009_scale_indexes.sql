-- Scale (100,000 hazards, 3,000 institutions, a warning reaching hundreds of them). The acknowledgement figures of
-- /stats and the acknowledgement register of the export ask, per warning, for each institution it reached and the
-- first answer any of its heads gave: the recipients in (warning, institution) order, so grouping them needs no
-- sort, and the first answer as one step into the answers of that institution, instead of reading and sorting every
-- answer to the warning once per institution.
CREATE INDEX warning_recipients_institution ON warning_recipients (warning_id, kind, institution_id, region_code);
CREATE INDEX warning_acks_institution ON warning_acks (warning_id, institution_id, at);
