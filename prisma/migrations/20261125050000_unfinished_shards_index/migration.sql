-- The grant walks each rendering job's unfinished shards in frame order and stops after a few
-- hundred; this index holds only those shards (PENDING, or LEASED for lapsed leases), so the walk
-- never touches finished work and no grant sorts the whole backlog.
CREATE INDEX "shards_unfinished_order_idx" ON "shards"("job_id", "frame_number", "tile_y", "tile_x")
WHERE "status" IN ('PENDING', 'LEASED');
