-- 0014: the MARKET_RAW stream sequences whose trades are stored (issue 17, docs/architecture.md "Exactly once in
-- market_trades").
--
-- The trade saver writes one row per transaction, in that transaction: the stream, the set of stream sequences of
-- the messages it stored (int8multirange: a batch's sequences are not contiguous when several savers share the
-- durable consumer or a message was nak'ed), and the range of the messages' JetStream timestamps. A redelivered
-- message (same stream, same sequence, same timestamp) is recognised here and skipped, whichever store node gets it
-- and however the redelivery is split into batches; no staging table and no ON CONFLICT are needed on that path.
-- The timestamp range guards against a stream that was deleted and created again (its sequences start over at 1,
-- but its messages are younger than every row here).
--
-- This table only makes the common path cheap: the primary key of market_trades stays the last guard (a trade
-- published again with a new sequence, e.g. a backfill after JetStream's dedup window, fails the fast COPY with
-- unique_violation and that batch is stored again through staging + ON CONFLICT DO NOTHING). So pruning rows can
-- never store a trade twice; the saver deletes the rows wholly below its consumer's ack floor (never redelivered).

CREATE TABLE market_raw_stored (
  stream      text COLLATE "C" NOT NULL,
  first_seq   bigint           NOT NULL,
  last_seq    bigint           NOT NULL,
  seqs        int8multirange   NOT NULL,
  first_ts_ns bigint           NOT NULL,
  last_ts_ns  bigint           NOT NULL,
  stored_at   timestamptz      NOT NULL DEFAULT now(),
  CHECK (first_seq <= last_seq AND first_ts_ns <= last_ts_ns)
);

-- "Does any stored set overlap the batch's [first, last]?": one probe per batch; pruning by last_seq.
CREATE INDEX market_raw_stored_last ON market_raw_stored (stream, last_seq);
