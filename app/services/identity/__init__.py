"""Who is acting and what they may see: principals, sign-in and tokens, accounts, applicant identity
checks, rate limits and the case access rule."""
