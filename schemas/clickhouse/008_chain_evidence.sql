-- How an action's chain is evidenced (schemas/delegation-token.md §11):
-- 'signed-links' (every hop signed by its delegator), 'sts-token' (one
-- token-exchange token: only the STS vouches for the intermediate hops), ''
-- without a chain. Rows written before this column existed could only hold
-- signed links, so the default says so whenever they carry a chain.
ALTER TABLE ${db}.actions ADD COLUMN IF NOT EXISTS chain_evidence LowCardinality(String) DEFAULT if(chain_depth > 0, 'signed-links', '') AFTER chain_hash
