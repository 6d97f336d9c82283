import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { PrismaService } from '../prisma/prisma.service';
import { literal, sql } from '../prisma/sql';

// Lease history uses clock_timestamp(), not now() (the statement's start): a grant that waited
// for a row lock is stamped after the release it waited for, so the history reads in order.
// Every shard status transition driven by leases lives here, each as one guarded SQL statement
// (or one transaction), so that any number of coordinator replicas on one database can never
// grant a shard twice or accept it twice: the WHERE clauses are the state machine.

export interface GrantedShard {
  leaseId: string;
  shardId: string;
  jobId: string;
  frameId: string;
  frameNumber: number;
  x: number;
  y: number;
  width: number;
  height: number;
  expiresAt: Date;
}

export interface ActiveLease {
  leaseId: string;
  shardId: string;
  jobId: string;
  frameId: string;
  nodeId: string;
  status: string;
  expiresAt: Date;
  width: number;
  height: number;
}

export interface ResultRecord {
  storageKey: string;
  sha256: string;
  signature: string;
  renderMs: number;
}

/**
 * How many of the oldest free shards a grant considers. It bounds the grant's cost, which grows
 * with it (alone on a connection here: 16 candidates 0.19 ms of Postgres, 32 0.27, 64 0.31-0.39;
 * in the throughput benchmark 24 instead of 64 took Postgres from 1.15-1.30 to 1.00-1.09 ms of
 * CPU per lease cycle), and must exceed the grants one replica can run at once (its connection
 * pool, 20), since concurrent grants skip each other's locked rows. A grant that loses every
 * candidate to concurrent grants (two replicas can run 40) says so and is retried at once.
 * Written into the SQL as a literal, not a parameter: with LIMIT $n Postgres judges its generic
 * plan worse than a custom one and plans the grant on every call (0.7-0.9 ms of each grant).
 */
const CANDIDATE_POOL = literal('24');

/** A grant's outcome: the shard, or none and whether free shards were there but all taken. */
export interface GrantAttempt {
  shard: GrantedShard | null;
  /** no shard granted although the pool held candidates: concurrent grants took them all */
  contended: boolean;
}

@Injectable()
export class LeasesRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Leases the best free shard to `nodeId`: oldest job first, then frame order, preferring tiles
   * whose neighbours this node has not rendered (so overlaps cross-check different nodes).
   * Only PENDING shards are free: the sweeper turns lapsed leases back into PENDING shards.
   * Jobs whose requirements (device, memory, Blender version) the node does not meet are skipped.
   */
  async grant(nodeId: string, ttlMs: number): Promise<GrantAttempt> {
    const leaseId = randomUUID();
    const rows = await this.prisma.query<Partial<GrantedShard> & { pool: number }>(sql`
      WITH pool AS MATERIALIZED (
        -- Walks each rendering job's free shards in frame order (shards_pending_order_idx)
        -- instead of sorting every free shard: jobs come in age order, so the incremental sort
        -- under the LIMIT stops within the first job or two that have work for this node.
        SELECT s.id, s.frame_id, s.tile_x, s.tile_y, s.frame_number, j.created_at
        FROM jobs j
        -- what this node offers (node-facts.ts); the rule is nodeSatisfiesJob in libs/protocol:
        -- an unknown fact (NULL) fails every requirement that needs it
        CROSS JOIN (SELECT blender_version_num, render_device, render_memory_mb, ask_price_wei
                    FROM nodes WHERE id = ${nodeId}::uuid) n
        CROSS JOIN LATERAL (
          SELECT s.id, s.frame_id, s.frame_number, s.tile_y, s.tile_x
          FROM shards s
          WHERE s.job_id = j.id AND s.status = 'PENDING'
            -- a check never goes to a node whose work it checks (NOT EXISTS, not NOT IN: keeps
            -- the ordered index scan that lets the LIMIT stop early)
            AND NOT EXISTS (SELECT 1 FROM shard_exclusions e WHERE e.shard_id = s.id AND e.node_id = ${nodeId}::uuid)
          ORDER BY s.frame_number, s.tile_y, s.tile_x
          LIMIT ${CANDIDATE_POOL}
        ) s
        WHERE j.status = 'RENDERING'
          -- dispatched once funded (or free of charge), and only to nodes content with its price
          AND j.payment IN ('NONE', 'FUNDED')
          AND (j.payment = 'NONE' OR j.price_wei >= COALESCE(n.ask_price_wei, 0))
          AND (j.device = 'any' OR j.device = n.render_device)
          AND (j.min_vram_mb IS NULL OR j.min_vram_mb <= n.render_memory_mb)
          AND (j.min_blender_version_num IS NULL OR j.min_blender_version_num <= n.blender_version_num)
          -- a convicted node gets nothing more of the job (checked once per job, not per shard)
          AND NOT EXISTS (SELECT 1 FROM job_blocklist b WHERE b.job_id = j.id AND b.node_id = ${nodeId}::uuid)
        ORDER BY j.created_at, s.frame_number, s.tile_y, s.tile_x
        LIMIT ${CANDIDATE_POOL}
      ), mine AS MATERIALIZED (
        -- this node's tiles in the pool's frames, read once for the neighbour preference
        SELECT n.frame_id, n.tile_x, n.tile_y
        FROM shards n
        WHERE n.frame_id = ANY (ARRAY(SELECT DISTINCT frame_id FROM pool))
          AND n.node_id = ${nodeId}::uuid AND n.kind = 'WORK'
      ), ranked AS MATERIALIZED (
        -- the pool's shard ids in the order they are offered, decided on the pool's own columns
        SELECT ARRAY(
          SELECT p.id FROM pool p
          ORDER BY EXISTS (
              SELECT 1 FROM mine n
              WHERE n.frame_id = p.frame_id
                AND abs(n.tile_x - p.tile_x) + abs(n.tile_y - p.tile_y) = 1
            ), p.created_at, p.frame_number, p.tile_y, p.tile_x
        ) AS ids
      ), candidate AS (
        -- the lock visits them one by one in that order and stops at the first it gets; found
        -- by primary key (= ANY), where a join let the planner scan every shard of a small table
        SELECT s.id
        FROM ranked r JOIN shards s ON s.id = ANY (r.ids)
        WHERE s.status = 'PENDING'
        ORDER BY array_position(r.ids, s.id)
        LIMIT 1
        FOR UPDATE OF s SKIP LOCKED
      ), granted AS (
        UPDATE shards s
        SET status = 'LEASED', lease_id = ${leaseId}::uuid, node_id = ${nodeId}::uuid,
            lease_expires_at = now() + ${ttlMs}::int * interval '1 millisecond', attempts = s.attempts + 1
        FROM candidate c WHERE s.id = c.id
        RETURNING s.id, s.job_id, s.frame_id, s.frame_number, s.x, s.y, s.width, s.height,
                  s.lease_expires_at
      ), lease AS (
        INSERT INTO leases (id, shard_id, node_id, status, granted_at, expires_at)
        SELECT ${leaseId}::uuid, g.id, ${nodeId}::uuid, 'ACTIVE', clock_timestamp(), g.lease_expires_at
        FROM granted g
      )
      SELECT g.id::text AS "shardId", g.job_id::text AS "jobId",
             g.frame_id::text AS "frameId", g.frame_number AS "frameNumber",
             g.x, g.y, g.width, g.height, g.lease_expires_at AS "expiresAt",
             (SELECT count(*) FROM pool)::int AS pool
      FROM (SELECT 1) AS one LEFT JOIN granted g ON true`);
    const { pool, ...row } = rows[0];
    if (!row.shardId) return { shard: null, contended: pool > 0 };
    return { shard: { ...(row as GrantedShard), leaseId }, contended: false };
  }

  async findLease(leaseId: string): Promise<ActiveLease | null> {
    const rows = await this.prisma.query<ActiveLease>(sql`
      SELECT l.id::text AS "leaseId", l.shard_id::text AS "shardId", s.job_id::text AS "jobId",
             s.frame_id::text AS "frameId", l.node_id::text AS "nodeId", l.status::text AS status,
             l.expires_at AS "expiresAt", s.width, s.height
      FROM leases l JOIN shards s ON s.id = l.shard_id
      WHERE l.id = ${leaseId}::uuid`);
    return rows[0] ?? null;
  }

  /** Extends a live lease held by `nodeId`; null when it is gone (expired, ended, someone else's). */
  async extend(leaseId: string, nodeId: string, ttlMs: number): Promise<Date | null> {
    const rows = await this.prisma.query<{ expiresAt: Date }>(sql`
      WITH s AS (
        -- status as text: found by primary key (see complete())
        UPDATE shards SET lease_expires_at = now() + ${ttlMs}::int * interval '1 millisecond'
        WHERE id = (SELECT shard_id FROM leases WHERE id = ${leaseId}::uuid)
          AND lease_id = ${leaseId}::uuid AND status::text = 'LEASED' AND node_id = ${nodeId}::uuid
          AND lease_expires_at > now()
        RETURNING id, lease_expires_at
      )
      UPDATE leases l SET expires_at = s.lease_expires_at
      FROM s WHERE l.id = ${leaseId}::uuid AND l.shard_id = s.id AND l.status = 'ACTIVE'
      RETURNING l.expires_at AS "expiresAt"`);
    return rows[0]?.expiresAt ?? null;
  }

  /**
   * Accepts the result of a live lease: shard DONE, lease COMPLETED, result stored, atomically.
   * Returns null (and changes nothing) when the lease is no longer live.
   *
   * One statement rather than a transaction of four. The shard row is updated (so locked) first,
   * as in grant(), and every statement that ends a lease also changes its shard row, so a shard
   * still LEASED under this lease means the lease is still ACTIVE. Should the lease update find
   * nothing anyway, no result row is inserted, the shard's result_id points at nothing and the
   * foreign key fails the whole statement: all or nothing either way.
   */
  async complete(
    lease: { leaseId: string; shardId: string },
    nodeId: string,
    result: ResultRecord,
  ): Promise<{ shardId: string; frameId: string; jobId: string; resultId: string } | null> {
    const { leaseId, shardId } = lease;
    const resultId = randomUUID();
    try {
      const rows = await this.prisma.query<{ shardId: string; frameId: string; jobId: string }>(sql`
        WITH s AS (
          -- Found by primary key; its lease_id decides whether this lease still holds it. The
          -- status is compared as text so that the planner cannot take the status index
          -- instead (statistics taken while few shards were leased make it look as cheap; it
          -- then walks every leased shard).
          UPDATE shards SET status = 'DONE', lease_expires_at = NULL, result_id = ${resultId}::uuid
          WHERE id = ${shardId}::uuid
            AND lease_id = ${leaseId}::uuid AND node_id = ${nodeId}::uuid
            AND status::text = 'LEASED' AND lease_expires_at > now()
          RETURNING id, frame_id, job_id
        ), l AS (
          UPDATE leases SET status = 'COMPLETED', ended_at = clock_timestamp()
          FROM s
          WHERE leases.id = ${leaseId}::uuid AND leases.shard_id = ${shardId}::uuid
            AND leases.shard_id = s.id AND leases.node_id = ${nodeId}::uuid
            AND leases.status = 'ACTIVE'
          RETURNING leases.id
        ), r AS (
          INSERT INTO results (id, shard_id, lease_id, node_id, storage_key, sha256, signature, render_ms)
          SELECT ${resultId}::uuid, s.id, l.id, ${nodeId}::uuid, ${result.storageKey}::text,
                 ${result.sha256}, ${result.signature}, ${result.renderMs}::int
          FROM s, l
        )
        SELECT id::text AS "shardId", frame_id::text AS "frameId", job_id::text AS "jobId" FROM s`);
      return rows[0] ? { ...rows[0], resultId } : null;
    } catch (e) {
      if (isForeignKeyViolation(e)) return null;
      throw e;
    }
  }

  /** Ends a live lease without a result (failed or released) and frees its shard at once. */
  async release(
    leaseId: string,
    nodeId: string,
    status: 'FAILED' | 'RELEASED',
    reason: string,
  ): Promise<boolean> {
    const rows = await this.prisma.query<{ id: string }>(sql`
      WITH s AS (
        -- status as text: found by primary key (see complete())
        UPDATE shards SET status = 'PENDING', lease_id = NULL, lease_expires_at = NULL
        WHERE id = (SELECT shard_id FROM leases WHERE id = ${leaseId}::uuid)
          AND lease_id = ${leaseId}::uuid AND node_id = ${nodeId}::uuid AND status::text = 'LEASED'
        RETURNING id
      )
      UPDATE leases l SET status = ${status}::"LeaseStatus", ended_at = clock_timestamp(), fail_reason = ${reason}
      FROM s WHERE l.id = ${leaseId}::uuid AND l.status = 'ACTIVE'
      RETURNING l.id::text AS id`);
    return rows.length === 1;
  }

  /**
   * Releases the node's active leases granted more than `graceMs` ago that are not in `held`
   * (the leases the node says it holds); returns the ones released.
   */
  async releaseUnheld(
    nodeId: string,
    held: string[],
    graceMs: number,
    reason: string,
  ): Promise<{ id: string; shardId: string; jobId: string }[]> {
    return this.prisma.query<{ id: string; shardId: string; jobId: string }>(sql`
      WITH orphan AS (
        SELECT l.id, l.shard_id FROM leases l
        WHERE l.node_id = ${nodeId}::uuid AND l.status = 'ACTIVE'
          AND l.granted_at < clock_timestamp() - ${graceMs}::int * interval '1 millisecond'
          AND l.id <> ALL (${held}::uuid[])
      ), s AS (
        UPDATE shards SET status = 'PENDING', lease_id = NULL, lease_expires_at = NULL
        FROM orphan o
        WHERE shards.id = o.shard_id AND shards.lease_id = o.id AND shards.status = 'LEASED'
        RETURNING o.id AS lease_id, shards.id AS shard_id, shards.job_id
      )
      UPDATE leases l SET status = 'RELEASED', ended_at = clock_timestamp(), fail_reason = ${reason}
      FROM s WHERE l.id = s.lease_id AND l.status = 'ACTIVE'
      RETURNING l.id::text AS id, s.shard_id::text AS "shardId", s.job_id::text AS "jobId"`);
  }

  /** How many different nodes failed to render the shard (leases they gave up with an error). */
  async failuresOf(
    shardId: string,
  ): Promise<{ nodes: number; frameNumber: number; tileX: number; tileY: number }> {
    const rows = await this.prisma.query<{
      nodes: number;
      frameNumber: number;
      tileX: number;
      tileY: number;
    }>(sql`
      SELECT count(DISTINCT l.node_id)::int AS nodes, s.frame_number AS "frameNumber",
             s.tile_x AS "tileX", s.tile_y AS "tileY"
      FROM shards s LEFT JOIN leases l ON l.shard_id = s.id AND l.status = 'FAILED'
      WHERE s.id = ${shardId}::uuid
      GROUP BY s.id`);
    return rows[0];
  }

  /** Returns lapsed shards to the pool; the leases that ended. Safe to run on every replica. */
  async expireLapsed(): Promise<{ id: string; shardId: string; jobId: string }[]> {
    return this.prisma.query<{ id: string; shardId: string; jobId: string }>(sql`
      WITH s AS (
        SELECT id, lease_id FROM shards
        WHERE status = 'LEASED' AND lease_expires_at < now()
        FOR UPDATE SKIP LOCKED
      ), freed AS (
        UPDATE shards SET status = 'PENDING', lease_id = NULL, lease_expires_at = NULL
        FROM s WHERE shards.id = s.id
        RETURNING s.lease_id, shards.id AS shard_id, shards.job_id
      )
      UPDATE leases l SET status = 'EXPIRED', ended_at = clock_timestamp()
      FROM freed WHERE l.id = freed.lease_id AND l.status = 'ACTIVE'
      RETURNING l.id::text AS id, freed.shard_id::text AS "shardId", freed.job_id::text AS "jobId"`);
  }

  touchNodes(nodeIds: string[]): Promise<unknown> {
    return this.prisma.query(sql`
      UPDATE nodes SET last_seen_at = now() WHERE id = ANY (${nodeIds}::uuid[])`);
  }
}

/** Postgres 23503 (foreign key violation), as pg reports it. */
function isForeignKeyViolation(e: unknown): boolean {
  return (e as { code?: string } | null)?.code === '23503';
}
