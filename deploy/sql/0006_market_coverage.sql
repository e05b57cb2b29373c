-- 0006: coverage (docs/api.md GET /api/v1/coverage, docs/operations.md "Operator's console"): what happened to the
-- trade feeds, per (exchange, symbol, UTC hour), next to the trades stored (market_trades).
--
-- market_gaps: one row per gap report on MARKET_GAP (written by the store role's coverage saver from the durable
-- consumer saver_gaps): `detected` when a connection found trade ids (or a time range) missing, `filled` for the
-- part the backfill recovered from the exchange's REST history, `unfillable` for the part it could not (beyond
-- backfill_max_trades, older than the exchange's history, REST failures). `id` is the report's Nats-Msg-Id, so a
-- redelivered report inserts nothing. `hour`: the hour of the gap's middle, halfway between the last trade before it
-- and the first after it (the missing trades lie between). `trades`: ids missing (detected), trades recovered (filled) or lost (unfillable); 0 for a
-- gap by time (venues without sequential ids), whose size is not known.
CREATE TABLE market_gaps (
  id           text COLLATE "C" PRIMARY KEY,
  exchange     text COLLATE "C" NOT NULL,
  symbol       text COLLATE "C" NOT NULL,
  hour         timestamptz      NOT NULL,
  outcome      text             NOT NULL CHECK (outcome IN ('detected', 'filled', 'unfillable')),
  first_id     bigint           NOT NULL,
  last_id      bigint           NOT NULL,
  trades       bigint           NOT NULL CHECK (trades >= 0),
  after_ts_ns  bigint           NOT NULL,
  before_ts_ns bigint           NOT NULL,
  reason       text             NOT NULL DEFAULT '',
  recorded_at  timestamptz      NOT NULL DEFAULT now()
);
CREATE INDEX market_gaps_by_hour ON market_gaps (hour, exchange, symbol);

-- market_audits: the latest audit verdict per (exchange, symbol, hour): the distinct trades MARKET_RAW held and
-- the rows market_trades held when it ran (scheduled audit, `audit` action of the console).
CREATE TABLE market_audits (
  exchange      text COLLATE "C" NOT NULL,
  symbol        text COLLATE "C" NOT NULL,
  hour          timestamptz      NOT NULL,
  stream_trades bigint           NOT NULL,
  stored_trades bigint           NOT NULL,
  audited_at    timestamptz      NOT NULL DEFAULT now(),
  PRIMARY KEY (exchange, symbol, hour)
);
