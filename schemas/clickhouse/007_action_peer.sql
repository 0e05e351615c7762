-- The authenticated sender of each action's span (schemas/delegation-token.md
-- §4.5): the SPIFFE ID proven by the OTLP request's mTLS client certificate or
-- JWT-SVID, '' when the request carried none. Compared with agent_id by the
-- emitter-authentication stage; kept so an analyst can see who really sent it.
ALTER TABLE ${db}.actions ADD COLUMN IF NOT EXISTS peer_id String DEFAULT '' AFTER agent_name;
