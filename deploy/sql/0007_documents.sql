-- 0007: documents (issue 14): filings, news, announcements and social posts, one row per document (its latest
-- revision), range-partitioned by MONTH on `published_at`, searchable in full text.
--
-- Partitions: documents_pYYYYMM FOR VALUES FROM ('YYYY-MM-01 00:00+00') TO (next month), created by the writer
-- (gateways/postgres/document_store.cpp) for the months of each batch before it inserts (documents arrive for any
-- month: a 1994 filing from a submissions backfill, today's news); documents_default catches a row whose month the
-- writer could not create.
--
-- Identity: `id` = '{source}:{native_id}'. A partitioned table's unique key must contain the partition key, so the
-- key is (id, published_at); the writer keeps the first-stored `published_at` of an id for its later revisions, so
-- every revision of a document lands on the same row.
--
-- Revisions: `revision` is the source's (update time in ns, a content hash, or 0: messages/document.hpp); a message
-- with another revision, fetched no earlier than the stored one, replaces the row's content and counts one more in
-- `revisions`; the same revision again (a repeated item, a redelivery) changes nothing.
--
-- Search: English full text on `search` (title, summary, body; GIN), and pg_trgm trigrams (GIN) on the same text for
-- languages the English parser does not split into words (Chinese 公告: `ILIKE '%处罚%'`). pg_trgm is contrib, in
-- Debian's postgresql-15 package.

SET LOCAL client_min_messages = warning;
SET LOCAL TimeZone = 'UTC';

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- The text both search paths read; IMMUTABLE so it can be indexed.
CREATE FUNCTION documents_text(title text, summary text, body text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN title || ' ' || summary || ' ' || body;

CREATE TABLE documents (
  id              text COLLATE "C" NOT NULL,
  source          text COLLATE "C" NOT NULL,
  native_id       text COLLATE "C" NOT NULL,
  kind            text             NOT NULL CHECK (kind IN ('filing', 'news', 'announcement', 'social')),
  symbols         text[]           NOT NULL DEFAULT '{}',
  title           text             NOT NULL,
  summary         text             NOT NULL,
  body            text             NOT NULL,
  url             text             NOT NULL,
  language        text             NOT NULL,
  published_at    timestamptz      NOT NULL,
  published_at_ns bigint           NOT NULL,
  fetched_at_ns   bigint           NOT NULL,
  revision        bigint           NOT NULL,
  revisions       integer          NOT NULL DEFAULT 1,
  fields          jsonb            NOT NULL DEFAULT '{}',
  stored_at       timestamptz      NOT NULL DEFAULT now(),
  search          tsvector GENERATED ALWAYS AS (to_tsvector('english', documents_text(title, summary, body))) STORED,
  PRIMARY KEY (id, published_at)
) PARTITION BY RANGE (published_at);

CREATE TABLE documents_default PARTITION OF documents DEFAULT;

CREATE INDEX documents_search_idx ON documents USING gin (search);
CREATE INDEX documents_trgm_idx ON documents USING gin (documents_text(title, summary, body) gin_trgm_ops);
CREATE INDEX documents_symbols_idx ON documents USING gin (symbols);
CREATE INDEX documents_time_idx ON documents (published_at DESC, id DESC);
CREATE INDEX documents_source_time_idx ON documents (source, kind, published_at DESC);
