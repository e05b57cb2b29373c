-- 0013: the Alpaca daily job's data-quality report (issue 13, item 4; docs/operations.md "Alpaca daily job").
--
-- market_daily_quality: one row per (venue, symbol, trading day, source) the job compared: the source's own daily
-- bar (market_daily_bars, source e.g. 'alpaca', adjustment 'none') against the platform's 1d kline of the market's
-- trading day (market_klines). `mismatches` counts the fields that differ (0: every field equal); `differences` lists
-- them as [{"field":"close","source":"162.95","ours":"162.9"}, ...] (field "missing": no 1d kline of ours,
-- "no_source_bar": a kline of ours and no bar from the source). A rerun of the day replaces the row.
-- Not partitioned: one row per symbol per trading day.

CREATE TABLE market_daily_quality (
  venue       text COLLATE "C" NOT NULL,
  symbol      text COLLATE "C" NOT NULL,
  market      text COLLATE "C" NOT NULL,
  trading_day date             NOT NULL,
  source      text COLLATE "C" NOT NULL,
  mismatches  integer          NOT NULL,
  differences jsonb            NOT NULL DEFAULT '[]',
  checked_at  timestamptz      NOT NULL,
  PRIMARY KEY (venue, symbol, trading_day, source)
);

-- "Every mismatch of the last weeks": GET /api/v1/quality?mismatched=true without a symbol.
CREATE INDEX market_daily_quality_day ON market_daily_quality (venue, trading_day);
