-- 0005: a summary of market_trades per (exchange, symbol), kept by the trade saver, so that
-- GET /api/v1/symbols reads a handful of rows instead of scanning (and counting) every trade.
--
-- Maintained in the saver's own transaction: the statement that inserts a batch of trades
-- (ON CONFLICT DO NOTHING ... RETURNING) adds exactly the rows it inserted, so redeliveries count
-- nothing twice. Partition retention subtracts the rows of each partition it drops and moves
-- first_ts_ns to the oldest row left (gateways/postgres/partitions.cpp). Exact as long as trades
-- are written only through the saver; after rows are deleted by hand, rebuild it with
-- `TRUNCATE market_symbols; INSERT INTO market_symbols SELECT exchange, symbol, min(ts_ns),
-- max(ts_ns), count(*) FROM market_trades GROUP BY 1, 2;` (the statement below).

CREATE TABLE market_symbols (
  exchange    text   COLLATE "C" NOT NULL,
  symbol      text   COLLATE "C" NOT NULL,
  first_ts_ns bigint NOT NULL,
  last_ts_ns  bigint NOT NULL,
  trade_count bigint NOT NULL CHECK (trade_count >= 0),
  PRIMARY KEY (exchange, symbol)
);

-- One scan of what is stored now (runs once, inside the migration's transaction).
INSERT INTO market_symbols (exchange, symbol, first_ts_ns, last_ts_ns, trade_count)
SELECT exchange, symbol, min(ts_ns), max(ts_ns), count(*) FROM market_trades GROUP BY exchange, symbol;
