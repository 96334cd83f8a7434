-- owner: @platform
-- expect: normalize_email(text) is gone
-- rollback: irreversible
SET lock_timeout = '2s';
DROP FUNCTION normalize_email(text);
