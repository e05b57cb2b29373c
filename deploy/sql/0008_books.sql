-- 0008: order-book samples for research queries (issue 15; config storage.books, off by default).
--
-- market_bbo: the best bid and ask of each book once per second (the state at the second's end, from the
-- published book: MARKET_BOOK), only for seconds in which the book was valid.
-- market_book_snapshots: the top `storage.books.depth` levels of each side once per minute, as JSON arrays of
-- [price, qty] decimal strings, best first (the exact decimals of the public contract: never floats).
--
-- Both partitioned by month on ts, like market_klines; partitions are made ahead and dropped past
-- storage.retention_months_books by the partition maintenance (gateways/postgres/partitions.cpp).
-- A sample written twice (a redelivery, a second store node) is kept once: the primary keys.

CREATE TABLE market_bbo (
  exchange  text COLLATE "C" NOT NULL,
  symbol    text COLLATE "C" NOT NULL,
  ts        timestamptz      NOT NULL,
  bid_price numeric,                 -- NULL: that side was empty
  bid_qty   numeric,
  ask_price numeric,
  ask_qty   numeric,
  sequence  bigint           NOT NULL, -- the book's sequence (market.v1.Book) the sample was taken at
  PRIMARY KEY (exchange, symbol, ts)
) PARTITION BY RANGE (ts);

CREATE TABLE market_bbo_default PARTITION OF market_bbo DEFAULT;

CREATE TABLE market_book_snapshots (
  exchange text COLLATE "C" NOT NULL,
  symbol   text COLLATE "C" NOT NULL,
  ts       timestamptz      NOT NULL,
  depth    integer          NOT NULL,
  bids     jsonb            NOT NULL, -- [["price","qty"], ...] best first
  asks     jsonb            NOT NULL,
  sequence bigint           NOT NULL,
  PRIMARY KEY (exchange, symbol, ts)
) PARTITION BY RANGE (ts);

CREATE TABLE market_book_snapshots_default PARTITION OF market_book_snapshots DEFAULT;
