-- 0004: API signing keys sealed at rest (gateways/http/key_crypto.hpp, docs/operations.md
-- "API master key").
--
-- Until 0003 the table held signing_key = hex(SHA-256(key_id || ':' || secret)) in clear, and that
-- value is all a client needs to sign. From here on `apikey create` writes only
-- signing_key_enc = AES-256-GCM(master key, nonce, aad = key_id, signing_key) as text
-- 'v1:<master key fingerprint>:<nonce hex>:<ciphertext+tag hex>'; the master key never enters
-- the database. Rows still in clear (keys created before this migration) are sealed, and their
-- clear column emptied, by `market-ingestor migrate`, any `apikey` command, and the API at start,
-- whenever the master key is present. A row holds exactly one of the two forms.

ALTER TABLE api_keys ALTER COLUMN signing_key DROP NOT NULL;
ALTER TABLE api_keys ADD COLUMN signing_key_enc text
  CHECK (signing_key_enc ~ '^v1:[0-9a-f]{8}:[0-9a-f]{24}:[0-9a-f]{160}$');
ALTER TABLE api_keys ADD CONSTRAINT api_keys_one_signing_key_form
  CHECK ((signing_key IS NULL) <> (signing_key_enc IS NULL));
