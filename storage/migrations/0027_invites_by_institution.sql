-- A head's invitation is looked for by its institution before another is made (one standing invitation per
-- institution, `InviteRepository.create_unless_standing`, `standing_for_head`); without this, each press read every
-- invitation ever made. Only invitations for a post at an institution carry one.
CREATE INDEX invites_by_institution ON invites (institution_id, role) WHERE institution_id IS NOT NULL;
