-- CreateEnum
CREATE TYPE "JobStatus" AS ENUM ('PLANNING', 'RENDERING', 'COMPLETED', 'FAILED', 'CANCELLED');

-- CreateEnum
CREATE TYPE "FrameStatus" AS ENUM ('PENDING', 'ASSEMBLING', 'DONE');

-- CreateEnum
CREATE TYPE "ShardStatus" AS ENUM ('PENDING', 'LEASED', 'DONE');

-- CreateEnum
CREATE TYPE "LeaseStatus" AS ENUM ('ACTIVE', 'COMPLETED', 'FAILED', 'EXPIRED', 'RELEASED');

-- CreateTable
CREATE TABLE "api_keys" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revoked_at" TIMESTAMP(3),

    CONSTRAINT "api_keys_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "scenes" (
    "sha256" TEXT NOT NULL,
    "size" BIGINT NOT NULL,
    "storage_key" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "scenes_pkey" PRIMARY KEY ("sha256")
);

-- CreateTable
CREATE TABLE "jobs" (
    "id" UUID NOT NULL,
    "status" "JobStatus" NOT NULL DEFAULT 'PLANNING',
    "api_key_id" UUID NOT NULL,
    "scene_sha256" TEXT NOT NULL,
    "settings" JSONB NOT NULL,
    "scene_info" JSONB,
    "seed" INTEGER NOT NULL,
    "error" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "planned_at" TIMESTAMP(3),
    "completed_at" TIMESTAMP(3),

    CONSTRAINT "jobs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "frames" (
    "id" UUID NOT NULL,
    "job_id" UUID NOT NULL,
    "number" INTEGER NOT NULL,
    "status" "FrameStatus" NOT NULL DEFAULT 'PENDING',
    "image_key" TEXT,
    "thumb_key" TEXT,
    "completed_at" TIMESTAMP(3),

    CONSTRAINT "frames_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "shards" (
    "id" UUID NOT NULL,
    "job_id" UUID NOT NULL,
    "frame_id" UUID NOT NULL,
    "frame_number" INTEGER NOT NULL,
    "tile_x" INTEGER NOT NULL,
    "tile_y" INTEGER NOT NULL,
    "x" INTEGER NOT NULL,
    "y" INTEGER NOT NULL,
    "width" INTEGER NOT NULL,
    "height" INTEGER NOT NULL,
    "margin_left" INTEGER NOT NULL,
    "margin_top" INTEGER NOT NULL,
    "margin_right" INTEGER NOT NULL,
    "margin_bottom" INTEGER NOT NULL,
    "status" "ShardStatus" NOT NULL DEFAULT 'PENDING',
    "lease_id" UUID,
    "lease_expires_at" TIMESTAMP(3),
    "node_id" UUID,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "result_id" UUID,

    CONSTRAINT "shards_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "nodes" (
    "id" UUID NOT NULL,
    "address" TEXT NOT NULL,
    "name" TEXT,
    "capabilities" JSONB,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_seen_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "nodes_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "node_challenges" (
    "nonce" TEXT NOT NULL,
    "address" TEXT NOT NULL,
    "node_id" UUID,
    "expires_at" TIMESTAMP(3) NOT NULL,
    "used_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "node_challenges_pkey" PRIMARY KEY ("nonce")
);

-- CreateTable
CREATE TABLE "leases" (
    "id" UUID NOT NULL,
    "shard_id" UUID NOT NULL,
    "node_id" UUID NOT NULL,
    "status" "LeaseStatus" NOT NULL DEFAULT 'ACTIVE',
    "granted_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMP(3) NOT NULL,
    "ended_at" TIMESTAMP(3),
    "fail_reason" TEXT,

    CONSTRAINT "leases_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "results" (
    "id" UUID NOT NULL,
    "shard_id" UUID NOT NULL,
    "lease_id" UUID NOT NULL,
    "node_id" UUID NOT NULL,
    "storage_key" TEXT NOT NULL,
    "sha256" TEXT NOT NULL,
    "signature" TEXT NOT NULL,
    "render_ms" INTEGER NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "results_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "api_keys_hash_key" ON "api_keys"("hash");

-- CreateIndex
CREATE INDEX "jobs_status_created_at_idx" ON "jobs"("status", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "frames_job_id_number_key" ON "frames"("job_id", "number");

-- CreateIndex
CREATE UNIQUE INDEX "shards_result_id_key" ON "shards"("result_id");

-- CreateIndex
CREATE INDEX "shards_status_job_id_idx" ON "shards"("status", "job_id");

-- CreateIndex
CREATE INDEX "shards_frame_id_idx" ON "shards"("frame_id");

-- CreateIndex
CREATE UNIQUE INDEX "shards_job_id_frame_number_tile_x_tile_y_key" ON "shards"("job_id", "frame_number", "tile_x", "tile_y");

-- CreateIndex
CREATE UNIQUE INDEX "nodes_address_key" ON "nodes"("address");

-- CreateIndex
CREATE INDEX "node_challenges_expires_at_idx" ON "node_challenges"("expires_at");

-- CreateIndex
CREATE INDEX "leases_shard_id_idx" ON "leases"("shard_id");

-- CreateIndex
CREATE INDEX "leases_node_id_status_idx" ON "leases"("node_id", "status");

-- CreateIndex
CREATE UNIQUE INDEX "results_lease_id_key" ON "results"("lease_id");

-- AddForeignKey
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_api_key_id_fkey" FOREIGN KEY ("api_key_id") REFERENCES "api_keys"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_scene_sha256_fkey" FOREIGN KEY ("scene_sha256") REFERENCES "scenes"("sha256") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "frames" ADD CONSTRAINT "frames_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "jobs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "shards" ADD CONSTRAINT "shards_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "jobs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "shards" ADD CONSTRAINT "shards_frame_id_fkey" FOREIGN KEY ("frame_id") REFERENCES "frames"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "shards" ADD CONSTRAINT "shards_result_id_fkey" FOREIGN KEY ("result_id") REFERENCES "results"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "node_challenges" ADD CONSTRAINT "node_challenges_node_id_fkey" FOREIGN KEY ("node_id") REFERENCES "nodes"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "leases" ADD CONSTRAINT "leases_shard_id_fkey" FOREIGN KEY ("shard_id") REFERENCES "shards"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "leases" ADD CONSTRAINT "leases_node_id_fkey" FOREIGN KEY ("node_id") REFERENCES "nodes"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "results" ADD CONSTRAINT "results_shard_id_fkey" FOREIGN KEY ("shard_id") REFERENCES "shards"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "results" ADD CONSTRAINT "results_lease_id_fkey" FOREIGN KEY ("lease_id") REFERENCES "leases"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "results" ADD CONSTRAINT "results_node_id_fkey" FOREIGN KEY ("node_id") REFERENCES "nodes"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
