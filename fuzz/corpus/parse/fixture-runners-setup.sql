-- The copy every runner fixture runs on: the tables their migrations index and alter, with
-- enough rows that each statement does real work.
CREATE TABLE executions (
    shard_id int NOT NULL,
    namespace_id uuid NOT NULL,
    workflow_id text NOT NULL,
    run_id uuid NOT NULL,
    state int NOT NULL DEFAULT 0,
    PRIMARY KEY (shard_id, namespace_id, workflow_id, run_id)
);
INSERT INTO executions
SELECT i % 16, md5('ns' || i % 3)::uuid, 'wf-' || i, md5('run' || i)::uuid, i % 4
FROM generate_series(1, 20000) AS i;

CREATE TABLE payments (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id bigint NOT NULL,
    amount_cents bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO payments (account_id, amount_cents)
SELECT i % 500, i FROM generate_series(1, 20000) AS i;

CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL,
    status text NOT NULL DEFAULT 'new'
);
INSERT INTO orders (customer_id) SELECT i % 700 FROM generate_series(1, 20000) AS i;

CREATE TABLE users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO users (email) SELECT 'user' || i || '@example.com' FROM generate_series(1, 20000) AS i;

CREATE TABLE posts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    author_id bigint NOT NULL,
    published_at timestamptz
);
INSERT INTO posts (author_id, published_at)
SELECT i % 300, now() - i * interval '1 hour' FROM generate_series(1, 20000) AS i;
CREATE INDEX posts_legacy_idx ON posts (author_id, id);

CREATE TABLE employees (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL,
    manager_id bigint
);
INSERT INTO employees (email, manager_id)
SELECT 'e' || i || '@corp.example', NULLIF(i % 50, 0) FROM generate_series(1, 20000) AS i;

CREATE TABLE invoices (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL,
    due_on date
);
INSERT INTO invoices (customer_id, due_on)
SELECT i % 900, current_date + i % 30 FROM generate_series(1, 20000) AS i;
