-- A nonce is unique among the transactions still in flight, not across all history: when a chain
-- forgets confirmed transactions (a development chain started afresh), the nonce counter starts
-- again from the chain's own count and old, confirmed rows keep their numbers.
DROP INDEX "chain_txs_from_address_nonce_key";

CREATE UNIQUE INDEX "chain_txs_live_nonce_key" ON "chain_txs"("from_address", "nonce") WHERE "status" IN ('PENDING', 'SENT');
