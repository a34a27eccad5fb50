-- The content checksum of each committed chunk (xxh3-128 row hashes summed
-- modulo 2^128, as hex), from the bytes the copy stage sent. A table's is
-- the sum over its done chunks: `--fresh` and `--stage copy` empty a table
-- they loaded only while it still holds exactly those rows. NULL for chunks
-- loaded before this version.

ALTER TABLE sqlite2pg.chunks ADD COLUMN IF NOT EXISTS content_sum text;
