-- Replacement by fee: a sent step that stays unmined is signed again with the same nonce and
-- higher fees. Every earlier signed transaction of the step is kept, since any of them may be
-- the one mined.
ALTER TABLE "chain_txs" ADD COLUMN "replaced_hashes" TEXT[] DEFAULT ARRAY[]::TEXT[];
