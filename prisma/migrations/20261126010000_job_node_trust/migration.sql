-- A node's reputation score at its first result in a job: the job samples the node's tiles at
-- this score or its current one, whichever is lower.
CREATE TABLE "job_node_trust" (
    "job_id" UUID NOT NULL,
    "node_id" UUID NOT NULL,
    "score" DOUBLE PRECISION NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "job_node_trust_pkey" PRIMARY KEY ("job_id","node_id")
);

ALTER TABLE "job_node_trust" ADD CONSTRAINT "job_node_trust_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "jobs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "job_node_trust" ADD CONSTRAINT "job_node_trust_node_id_fkey" FOREIGN KEY ("node_id") REFERENCES "nodes"("id") ON DELETE CASCADE ON UPDATE CASCADE;
