-- Statistics, rankings and exports (issue 6). /stats asks two questions of the hazards table over and over: what
-- was found in a period (its cohort, counted by county, area, severity and source level) and what is unresolved
-- now (the backlog). Both are answered from these covering indexes alone, so a month of a city with 100,000
-- hazards reads a few thousand index entries instead of the whole table.
CREATE INDEX hazards_cohort ON hazards (
    reported_at, region_code, area, severity, source_level, state, deadline, closed_on_time, closed_at, institution_id
);
CREATE INDEX hazards_backlog ON hazards (state, region_code, deadline, institution_id);
