-- The grant walks free shards only. With many agents at work, the LEASED rows ahead of the free
-- ones in frame order were most of what every grant read (200 agents: 200 live leases walked
-- past per grant). A lapsed lease comes back as PENDING through the lease sweeper, which runs on
-- every replica (LEASE_SWEEP_MS), and only then is leased again.
CREATE INDEX "shards_pending_order_idx" ON "shards"("job_id", "frame_number", "tile_y", "tile_x")
WHERE "status" = 'PENDING';
DROP INDEX "shards_unfinished_order_idx";
