ALTER TABLE x_portal_user ADD COLUMN sync_source int(11) DEFAULT NULL;
