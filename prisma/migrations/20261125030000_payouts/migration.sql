-- Payouts: a job's funding state and price, the ledger of what each party is owed, and the
-- escrow transactions that settle it. Amounts are wei in NUMERIC(78,0) (any uint256 fits).

-- CreateEnum
CREATE TYPE "PaymentState" AS ENUM ('NONE', 'AWAITING_FUNDS', 'FUNDED', 'SETTLING', 'SETTLED', 'FAILED');

-- CreateEnum
CREATE TYPE "LedgerKind" AS ENUM ('ACCRUED', 'SETTLED', 'SLASHED', 'REFUNDED');

-- CreateEnum
CREATE TYPE "ChainTxKind" AS ENUM ('SETTLE', 'SLASH', 'CLOSE');

-- CreateEnum
CREATE TYPE "ChainTxStatus" AS ENUM ('PENDING', 'SENT', 'CONFIRMED', 'FAILED');

-- AlterTable
ALTER TABLE "jobs" ADD COLUMN "payment" "PaymentState" NOT NULL DEFAULT 'NONE',
ADD COLUMN "price_wei" NUMERIC(78,0),
ADD COLUMN "budget_wei" NUMERIC(78,0),
ADD COLUMN "deposit_wei" NUMERIC(78,0),
ADD COLUMN "funded_wei" NUMERIC(78,0),
ADD COLUMN "requester_address" TEXT,
ADD COLUMN "payment_note" TEXT;

-- AlterTable: the price a node asks per work unit (it is not leased tiles of cheaper jobs)
ALTER TABLE "nodes" ADD COLUMN "ask_price_wei" NUMERIC(78,0);

-- CreateTable
CREATE TABLE "chain_txs" (
    "id" UUID NOT NULL,
    "job_id" UUID NOT NULL,
    "seq" INTEGER NOT NULL,
    "kind" "ChainTxKind" NOT NULL,
    "status" "ChainTxStatus" NOT NULL DEFAULT 'PENDING',
    "args" JSONB NOT NULL,
    "from_address" TEXT,
    "nonce" INTEGER,
    "raw_tx" TEXT,
    "tx_hash" TEXT,
    "block_number" INTEGER,
    "block_hash" TEXT,
    "outcome" JSONB,
    "error" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sent_at" TIMESTAMP(3),
    "confirmed_at" TIMESTAMP(3),

    CONSTRAINT "chain_txs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "chain_accounts" (
    "address" TEXT NOT NULL,
    "next_nonce" INTEGER NOT NULL,

    CONSTRAINT "chain_accounts_pkey" PRIMARY KEY ("address")
);

-- CreateTable
CREATE TABLE "ledger_entries" (
    "id" UUID NOT NULL,
    "job_id" UUID NOT NULL,
    "kind" "LedgerKind" NOT NULL,
    "address" TEXT NOT NULL,
    "node_id" UUID,
    "amount_wei" NUMERIC(78,0) NOT NULL,
    "chain_tx_id" UUID,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ledger_entries_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "ledger_entries_amount_check" CHECK ("amount_wei" >= 0)
);

-- One transaction per step of a job's settlement, in order.
CREATE UNIQUE INDEX "chain_txs_job_id_seq_key" ON "chain_txs"("job_id", "seq");

-- A nonce is used by one transaction only.
CREATE UNIQUE INDEX "chain_txs_from_address_nonce_key" ON "chain_txs"("from_address", "nonce");

CREATE INDEX "chain_txs_status_idx" ON "chain_txs"("status");

-- One entry per job, kind and party: writing the ledger twice changes nothing.
CREATE UNIQUE INDEX "ledger_entries_job_id_kind_address_key" ON "ledger_entries"("job_id", "kind", "address");

CREATE INDEX "ledger_entries_address_idx" ON "ledger_entries"("address");

CREATE INDEX "jobs_payment_idx" ON "jobs"("payment");

-- AddForeignKey
ALTER TABLE "chain_txs" ADD CONSTRAINT "chain_txs_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "jobs"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "jobs"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_node_id_fkey" FOREIGN KEY ("node_id") REFERENCES "nodes"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_chain_tx_id_fkey" FOREIGN KEY ("chain_tx_id") REFERENCES "chain_txs"("id") ON DELETE SET NULL ON UPDATE CASCADE;
