-- owner: @platform
-- expect: the replacement exists next to normalize_email(text)
-- rollback: irreversible
SET lock_timeout = '2s';
CREATE FUNCTION normalize_email_v2(address text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower(trim(address)) $$;
