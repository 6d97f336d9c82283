-- CreateEnum
CREATE TYPE "ShardKind" AS ENUM ('WORK', 'CHECK');

-- CreateEnum
CREATE TYPE "CheckPurpose" AS ENUM ('CROP', 'RINGER', 'ARBITRATION');

-- CreateEnum
CREATE TYPE "VerdictKind" AS ENUM ('OVERLAP', 'CROP', 'RINGER', 'ARBITRATION', 'FRAUD');

-- CreateEnum
CREATE TYPE "VerdictOutcome" AS ENUM ('PASS', 'FAIL', 'UNRESOLVED');

-- AlterTable
ALTER TABLE "jobs" ADD COLUMN "verification" TEXT NOT NULL DEFAULT 'standard';

-- AlterTable
ALTER TABLE "nodes" ADD COLUMN "trust" JSONB;

-- AlterTable
ALTER TABLE "shards" ADD COLUMN "kind" "ShardKind" NOT NULL DEFAULT 'WORK',
ADD COLUMN "verified_at" TIMESTAMP(3),
ADD COLUMN "purpose" "CheckPurpose",
ADD COLUMN "checked_result_id" UUID,
ADD COLUMN "disputed_result_id" UUID;

-- One WORK shard per frame and tile; CHECK shards share their tile's coordinates.
DROP INDEX "shards_job_id_frame_number_tile_x_tile_y_key";
CREATE UNIQUE INDEX "shards_work_tile_key" ON "shards"("job_id", "frame_number", "tile_x", "tile_y") WHERE "kind" = 'WORK';

-- CreateTable
CREATE TABLE "shard_exclusions" (
    "shard_id" UUID NOT NULL,
    "node_id" UUID NOT NULL,

    CONSTRAINT "shard_exclusions_pkey" PRIMARY KEY ("shard_id","node_id")
);

-- CreateTable
CREATE TABLE "job_blocklist" (
    "job_id" UUID NOT NULL,
    "node_id" UUID NOT NULL,
    "reason" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "job_blocklist_pkey" PRIMARY KEY ("job_id","node_id")
);

-- CreateTable
CREATE TABLE "verdicts" (
    "id" UUID NOT NULL,
    "job_id" UUID NOT NULL,
    "frame_number" INTEGER NOT NULL,
    "kind" "VerdictKind" NOT NULL,
    "outcome" "VerdictOutcome" NOT NULL,
    "result_a" UUID,
    "result_b" UUID,
    "node_a" UUID,
    "node_b" UUID,
    "evidence" JSONB NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "verdicts_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "verdicts_job_id_created_at_idx" ON "verdicts"("job_id", "created_at");

-- CreateIndex
CREATE INDEX "verdicts_node_a_idx" ON "verdicts"("node_a");

-- AddForeignKey
ALTER TABLE "shard_exclusions" ADD CONSTRAINT "shard_exclusions_shard_id_fkey" FOREIGN KEY ("shard_id") REFERENCES "shards"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "shard_exclusions" ADD CONSTRAINT "shard_exclusions_node_id_fkey" FOREIGN KEY ("node_id") REFERENCES "nodes"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "job_blocklist" ADD CONSTRAINT "job_blocklist_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "jobs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "job_blocklist" ADD CONSTRAINT "job_blocklist_node_id_fkey" FOREIGN KEY ("node_id") REFERENCES "nodes"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "verdicts" ADD CONSTRAINT "verdicts_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "jobs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- One crop check per result and one arbitration per disputed pair, however many verification
-- runs race to create them.
CREATE UNIQUE INDEX "shards_crop_check_key" ON "shards"("checked_result_id", "x", "y") WHERE "purpose" = 'CROP';
CREATE UNIQUE INDEX "shards_arbitration_key" ON "shards"("checked_result_id", "disputed_result_id") WHERE "purpose" = 'ARBITRATION';
