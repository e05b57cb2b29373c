-- 0009: equities (issue 13): quote snapshots and the sources' own daily bars.
--
-- market_quotes: market.v1.Quote from MARKET_QUOTE (Alpaca quotes, A-share polled snapshots), one row per
-- (venue, symbol, source, ts); levels as JSON arrays of [price, size] decimal strings (sizes in shares), best first.
-- Partitioned by month on ts like market_klines (partition maintenance: gateways/postgres/partitions.cpp).
-- market_daily_bars: market.v1.DailyBar: a source's daily bar per trading day (the market's time zone) and
-- adjustment, beside the platform's own 1d klines in market_klines; not partitioned (one row per symbol per day).
-- A row written twice (a redelivery, a second store node) is kept once: the primary keys.

CREATE TABLE market_quotes (
  venue       text COLLATE "C" NOT NULL,
  symbol      text COLLATE "C" NOT NULL,
  source      text COLLATE "C" NOT NULL,
  ts          timestamptz      NOT NULL,
  trading_day date,
  last        numeric,
  bids        jsonb            NOT NULL DEFAULT '[]', -- [["price","size"], ...] best first
  asks        jsonb            NOT NULL DEFAULT '[]',
  volume      numeric,                               -- the day's cumulative volume, shares
  turnover    numeric,                               -- the day's cumulative turnover, quote currency
  open        numeric,
  high        numeric,
  low         numeric,
  prev_close  numeric,
  currency    text,
  PRIMARY KEY (venue, symbol, source, ts)
) PARTITION BY RANGE (ts);

CREATE TABLE market_quotes_default PARTITION OF market_quotes DEFAULT;

CREATE TABLE market_daily_bars (
  venue       text COLLATE "C" NOT NULL,
  symbol      text COLLATE "C" NOT NULL,
  market      text COLLATE "C" NOT NULL,
  trading_day date             NOT NULL,
  source      text COLLATE "C" NOT NULL,
  adjustment  text COLLATE "C" NOT NULL CHECK (adjustment IN ('none', 'forward', 'backward', 'all')),
  open        numeric          NOT NULL,
  high        numeric          NOT NULL,
  low         numeric          NOT NULL,
  close       numeric          NOT NULL,
  volume      numeric          NOT NULL,
  turnover    numeric,
  vwap        numeric,
  trade_count bigint,
  fetched_at  timestamptz      NOT NULL,
  PRIMARY KEY (venue, symbol, trading_day, source, adjustment)
);
