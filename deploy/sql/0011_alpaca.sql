-- 0011: Alpaca (issue 13): trade amendments.
--
-- A correction (Alpaca `c`) or a cancel/error (`x`) arrives as an amendment on MARKET_RAW (market.v1.Trade with
-- `amends` set, docs/architecture.md "Trade amendments"); the trades saver applies it to the stored trade, found by
-- (exchange, symbol, trade_id) where trade_id is Alpaca's "<id>-<exchange code>":
--   corrected_by: the id of the last correction applied ("<ci>-<x>"); price and quantity then hold its values
--                 (a later correction may name this id instead of the original's).
--   canceled:     the trade was canceled or was an error. The row stays (the hourly audit compares MARKET_RAW's trade
--                 messages with rows), but klines, the kline audit and the history API leave it out.
ALTER TABLE market_trades ADD COLUMN canceled boolean NOT NULL DEFAULT false;
ALTER TABLE market_trades ADD COLUMN corrected_by text COLLATE "C";
