-- 0002: market_trades range-partitioned by DAY on `ts`, market_klines by MONTH on `open_time`.
--
-- Forward-only and safe on a database that already holds 0001 data: the plain tables are
-- renamed, the partitioned tables created with the same columns, keys and indexes, one
-- partition created for every day / month that holds rows, every row moved, the old tables
-- dropped; all in this migration's one transaction (a failure leaves 0001 untouched).
--
-- Partition names and bounds (UTC, whatever the session's TimeZone):
--   market_trades_pYYYYMMDD  FOR VALUES FROM ('YYYY-MM-DD 00:00+00') TO (next day)
--   market_klines_pYYYYMM    FOR VALUES FROM ('YYYY-MM-01 00:00+00') TO (next month)
--   market_trades_default / market_klines_default: DEFAULT partitions, so a row with an
--   unexpected date never fails an insert. The platform (gateways/postgres partitions.cpp)
--   creates the partitions ahead of time, moves any default rows into a partition when it
--   creates it, reports default rows as a metric, and drops partitions past the retention.
--
-- Uniqueness: a partitioned table's unique keys must contain the partition key, so the trade
-- key is (exchange, symbol, trade_id, ts), as in 0001. A trade is still unique by
-- (exchange, symbol, trade_id): the exchange never changes the time of a trade id, and our
-- codecs compute `ts` from the frame deterministically, so every redelivery of a trade has the
-- same `ts`, lands in the same partition and hits the same key there (ON CONFLICT DO NOTHING).
-- The kline key (exchange, symbol, interval, open_time) already contains `open_time`.
--
-- When the TimescaleDB extension is available, `migrate` applies a different 0002 instead of
-- this file (hypertables + compression; see gateways/postgres/timescale.cpp). Untested here:
-- Debian ships no TimescaleDB.

SET LOCAL client_min_messages = warning;
SET LOCAL TimeZone = 'UTC';

ALTER TABLE market_trades RENAME TO market_trades_0001;
ALTER TABLE market_trades_0001 RENAME CONSTRAINT market_trades_pkey TO market_trades_0001_pkey;
ALTER INDEX market_trades_exchange_symbol_ts_idx RENAME TO market_trades_0001_ts_idx;
ALTER TABLE market_klines RENAME TO market_klines_0001;
ALTER TABLE market_klines_0001 RENAME CONSTRAINT market_klines_pkey TO market_klines_0001_pkey;

CREATE TABLE market_trades (
  exchange  text COLLATE "C" NOT NULL,
  symbol    text COLLATE "C" NOT NULL,
  base      text             NOT NULL,
  quote     text             NOT NULL,
  trade_id  text COLLATE "C" NOT NULL,
  price     numeric          NOT NULL,
  quantity  numeric          NOT NULL,
  side      text             NOT NULL CHECK (side IN ('buy', 'sell', 'unknown')),
  ts        timestamptz      NOT NULL,
  ts_ns     bigint           NOT NULL,
  recv_ns   bigint           NOT NULL,
  PRIMARY KEY (exchange, symbol, trade_id, ts)
) PARTITION BY RANGE (ts);

-- Declared on the parent: every partition gets its own copy.
CREATE INDEX market_trades_exchange_symbol_ts_idx ON market_trades (exchange, symbol, ts DESC);

CREATE TABLE market_trades_default PARTITION OF market_trades DEFAULT;

CREATE TABLE market_klines (
  exchange               text COLLATE "C" NOT NULL,
  symbol                 text COLLATE "C" NOT NULL,
  interval               text COLLATE "C" NOT NULL,
  open_time              timestamptz      NOT NULL,
  close_time             timestamptz      NOT NULL,
  open_time_ms           bigint           NOT NULL,
  open                   numeric          NOT NULL,
  high                   numeric          NOT NULL,
  low                    numeric          NOT NULL,
  close                  numeric          NOT NULL,
  volume                 numeric          NOT NULL,
  quote_volume           numeric          NOT NULL,
  taker_buy_volume       numeric          NOT NULL,
  taker_buy_quote_volume numeric          NOT NULL,
  vwap                   numeric          NOT NULL,
  trade_count            bigint           NOT NULL,
  first_trade_id         text             NOT NULL,
  last_trade_id          text             NOT NULL,
  revision               integer          NOT NULL DEFAULT 0,
  updated_at             timestamptz      NOT NULL DEFAULT now(),
  PRIMARY KEY (exchange, symbol, interval, open_time)
) PARTITION BY RANGE (open_time);
-- As in 0001: the primary key serves (exchange, symbol, interval, open_time DESC) scans.

CREATE TABLE market_klines_default PARTITION OF market_klines DEFAULT;

-- One partition for every day / month that holds 0001 rows, then move the rows.
DO $$
DECLARE
  d timestamptz;
BEGIN
  FOR d IN SELECT DISTINCT date_trunc('day', ts) FROM market_trades_0001 LOOP
    EXECUTE format('CREATE TABLE %I PARTITION OF market_trades FOR VALUES FROM (%L) TO (%L)',
                   'market_trades_p' || to_char(d, 'YYYYMMDD'), d, d + interval '1 day');
  END LOOP;
  FOR d IN SELECT DISTINCT date_trunc('month', open_time) FROM market_klines_0001 LOOP
    EXECUTE format('CREATE TABLE %I PARTITION OF market_klines FOR VALUES FROM (%L) TO (%L)',
                   'market_klines_p' || to_char(d, 'YYYYMM'), d, d + interval '1 month');
  END LOOP;
END
$$;

INSERT INTO market_trades SELECT * FROM market_trades_0001;
INSERT INTO market_klines SELECT * FROM market_klines_0001;
DROP TABLE market_trades_0001;
DROP TABLE market_klines_0001;
