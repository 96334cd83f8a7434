-- Watched queries for the orders examples (fixtures/rules/plan-regression/setup.sql): the
-- application's hot paths, each named by the comment right above it.

-- name: orders of a customer
SELECT id, status, created_at
FROM orders
WHERE customer_id = 42
ORDER BY created_at DESC;

-- name: stuck orders count
SELECT count(*) FROM orders WHERE status = 'stuck';

-- name: order by id
SELECT * FROM orders WHERE id = 1234;
