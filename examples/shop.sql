-- A small shop database in the shapes real SQLite apps have: AUTOINCREMENT
-- and rowid keys, a composite key, a foreign-key chain, unique and partial
-- indexes, reserved-word and mixed-case names, timestamps as ISO text and as
-- epoch milliseconds, booleans as 0/1, JSON text, REAL money.
-- Rebuild the sample with: sqlite3 pipelines/shop.db < examples/shop.sql
PRAGMA foreign_keys = ON;
CREATE TABLE "Customers" (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL UNIQUE,
    "Full Name" nvarchar(80),
    is_active BOOLEAN NOT NULL DEFAULT 1,
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE products (
    sku TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    price REAL NOT NULL CHECK (price >= 0),
    attributes JSON
) WITHOUT ROWID;
CREATE TABLE "order" (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES "Customers"(id) ON DELETE CASCADE,
    placed_at_ms INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'new',
    note TEXT
);
CREATE INDEX order_customer_idx ON "order"(customer_id);
CREATE INDEX order_open_idx ON "order"(placed_at_ms) WHERE status <> 'shipped';
CREATE TABLE order_lines (
    order_id INTEGER NOT NULL REFERENCES "order"(id) ON DELETE CASCADE,
    line_no INTEGER NOT NULL,
    sku TEXT NOT NULL REFERENCES products(sku),
    qty INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (order_id, line_no)
);
INSERT INTO "Customers" (email, "Full Name", is_active, created_at) VALUES
 ('ann@example.com', 'Ann Example', 1, '2024-01-02 03:04:05'),
 ('bjorn@example.com', 'Bjørn Ünïcødé', 0, '2024-02-03T04:05:06Z'),
 ('chen@example.com', NULL, 1, '2024-03-04 05:06:07.250');
INSERT INTO products VALUES
 ('A-1', 'Teapot', 24.99, '{"color": "blue", "ml": 900}'),
 ('B-2', 'Cup', 0.1, NULL),
 ('C-3', 'Saucer', 3.3000000000000003, '{"set": [1, 2]}');
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
INSERT INTO "order" (id, customer_id, placed_at_ms, status, note)
SELECT i, 1 + i % 3, 1704067200000 + i * 3600000,
       CASE i % 4 WHEN 0 THEN 'shipped' WHEN 1 THEN 'new' ELSE 'paid' END,
       CASE WHEN i % 7 = 0 THEN 'gift' END
FROM n;
INSERT INTO order_lines (order_id, line_no, sku, qty)
SELECT id, 1, CASE id % 3 WHEN 0 THEN 'A-1' WHEN 1 THEN 'B-2' ELSE 'C-3' END, 1 + id % 5 FROM "order";
INSERT INTO order_lines (order_id, line_no, sku, qty)
SELECT id, 2, 'B-2', 2 FROM "order" WHERE id % 2 = 0;
