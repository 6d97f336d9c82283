-- What a job needs of a node, and what each node offers: the lease grant matches them in SQL.
ALTER TABLE "jobs"
  ADD COLUMN "min_vram_mb" INTEGER,
  ADD COLUMN "min_blender_version_num" INTEGER,
  ADD COLUMN "device" TEXT NOT NULL DEFAULT 'any';

ALTER TABLE "nodes"
  ADD COLUMN "blender_version_num" INTEGER,
  ADD COLUMN "render_device" TEXT,
  ADD COLUMN "render_memory_mb" INTEGER;
