-- A cadre's 🆘 需要帮助 for a vulnerable person in a contact round is a call for help like a head's: county staff
-- take it (✋ 我来处理), resolve it (✅ 已解决), and the pager repeats it until someone does. The row names the round
-- and the person (by id: the registry holds a pseudonymous code only); both are NULL for a head's or a cadre's own
-- call under a warning.
ALTER TABLE warning_help_requests ADD COLUMN round_id INTEGER REFERENCES contact_rounds (id);
ALTER TABLE warning_help_requests ADD COLUMN person_id INTEGER REFERENCES vulnerable_people (id);
CREATE INDEX warning_help_requests_by_person ON warning_help_requests (round_id, person_id);
