-- A shard is never leased to two nodes at once, whatever the coordinator does: at most one ACTIVE
-- lease per shard. Deferred to commit, because a grant expires the old lease and inserts the new
-- one in the same statement. (Prisma's schema language cannot express exclusion constraints.)
ALTER TABLE "leases" ADD CONSTRAINT "leases_one_active_per_shard"
    EXCLUDE USING btree ("shard_id" WITH =) WHERE ("status" = 'ACTIVE')
    DEFERRABLE INITIALLY DEFERRED;
