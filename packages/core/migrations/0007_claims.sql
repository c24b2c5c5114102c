-- How many times the job has been claimed, ever: the fencing token's counter. Unlike attempts,
-- a manual retry never resets it, so every claim of a job gets a greater token than the
-- claims before it. The claim sets it to greatest(claims, attempts) + 1 in the UPDATE that
-- counts the attempt (no extra write); that also carries on from the attempt-based tokens
-- of earlier versions, so the default 0 needs no backfill and this is a catalog-only change.
ALTER TABLE {{schema}}.jobs ADD COLUMN claims integer NOT NULL DEFAULT 0;
