-- The copy that dependent-objects-block-change's examples run on: a rental catalogue in the
-- shape of pagila's film table, with the reporting view that selects its price.
CREATE TABLE film (
    film_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title text NOT NULL,
    rental_rate numeric(4,2) NOT NULL DEFAULT 4.99,
    replacement_cost numeric(5,2) NOT NULL DEFAULT 19.99
);

INSERT INTO film (title, rental_rate)
SELECT 'Film ' || i, (ARRAY[0.99, 2.99, 4.99])[1 + i % 3] FROM generate_series(1, 1000) AS i;

CREATE VIEW film_list AS
SELECT film_id, title, rental_rate AS price FROM film;

ANALYZE film;
