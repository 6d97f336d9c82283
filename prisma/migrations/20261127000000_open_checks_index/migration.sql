-- A job completes only once no check of its work is open (jobs/job-completion.ts), which is
-- asked on every frame stitched and every check resolved: the open checks of a job, found
-- without walking its done shards.
CREATE INDEX "shards_open_checks_idx" ON "shards"("job_id")
WHERE "kind" = 'CHECK' AND "verified_at" IS NULL;
