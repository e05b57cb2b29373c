-- 0003: API keys of the REST history API and the push gateway (gateways/http/auth.hpp).
--
-- `market-ingestor apikey create` draws a random key id (the per-key salt) and a random secret,
-- prints both once, and stores only signing_key = hex(SHA-256(key_id || ':' || secret)): the
-- HMAC-SHA256 key both sides sign with. The secret itself is never stored. Whoever reads this
-- table can sign requests for the keys in it until they are revoked (docs/operations.md "API
-- keys"), but cannot recover the secrets.
--
-- Numbered 0003: 0002 (partitions, retention) comes from another change; the migration runner
-- applies whatever is not yet recorded, in file-name order, and does not require a gap-free set.

CREATE TABLE api_keys (
  key_id           text COLLATE "C" PRIMARY KEY,
  name             text             NOT NULL CHECK (name <> ''),
  signing_key      text             NOT NULL CHECK (signing_key ~ '^[0-9a-f]{64}$'),
  quota_per_minute integer          CHECK (quota_per_minute > 0), -- NULL: api.default_quota_per_minute
  created_at       timestamptz      NOT NULL DEFAULT now(),
  revoked_at       timestamptz                                    -- NULL: active
);
