-- 0010: derivatives (issue 15, item 6): perpetual-swap funding rates, mark/index prices, open interest and
-- liquidations from MARKET_DERIV (market.{funding,mark,oi,liquidation}.{exchange}.{symbol}, payload
-- market.v1.Derivative; exchanges binance-usdm, okx-swap, bybit-linear).
--
-- One row per event; the columns of the other channels are NULL (a channel's value the exchange did not send in that
-- message is NULL too: a Bybit ticker delta with only the index price). Decimals are the canonical strings of the
-- payload stored as numeric (numeric keeps the text's scale, so they read back as sent). ts is the exchange's event
-- time (µs), ts_ns the exact ns value of the payload. A row written twice (a redelivery, a second store node) is kept
-- once: the primary key carries the payload's dedup id (Nats-Msg-Id). Partitioned by month on ts like
-- market_klines (partition maintenance: gateways/postgres/partitions.cpp, storage.retention_months_derivatives).

CREATE TABLE market_derivatives (
  exchange            text COLLATE "C" NOT NULL,
  symbol              text COLLATE "C" NOT NULL,
  channel             text COLLATE "C" NOT NULL CHECK (channel IN ('funding', 'mark', 'oi', 'liquidation')),
  ts                  timestamptz      NOT NULL,
  ts_ns               bigint           NOT NULL,
  recv_ns             bigint           NOT NULL,
  rate                numeric,          -- funding
  next_funding        timestamptz,      -- funding: when the rate is charged
  mark_price          numeric,          -- mark
  index_price         numeric,          -- mark
  open_interest       numeric,          -- oi: contracts or base units, as the exchange counts
  open_interest_value numeric,          -- oi: notional value
  side                text COLLATE "C" CHECK (side IN ('buy', 'sell', 'unknown')), -- liquidation order side
  price               numeric,          -- liquidation
  quantity            numeric,          -- liquidation
  dedup_id            text COLLATE "C" NOT NULL,
  PRIMARY KEY (exchange, symbol, channel, ts, dedup_id)
) PARTITION BY RANGE (ts);

CREATE TABLE market_derivatives_default PARTITION OF market_derivatives DEFAULT;
