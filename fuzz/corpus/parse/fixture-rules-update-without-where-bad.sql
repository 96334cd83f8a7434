-- owner: @growth-team
-- expect: every user is opted out of the newsletter
-- rollback: irreversible
UPDATE users SET newsletter_opt_in = false;
