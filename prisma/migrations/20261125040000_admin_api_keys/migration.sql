-- Admin API keys see the whole farm on the dashboard (every job, the nodes); others see their own jobs.
ALTER TABLE "api_keys" ADD COLUMN "admin" BOOLEAN NOT NULL DEFAULT false;
