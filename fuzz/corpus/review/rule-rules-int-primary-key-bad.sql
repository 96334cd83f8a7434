-- owner: @accounts-team
-- expect: customers can sign up
-- rollback: DROP TABLE customers;
CREATE TABLE customers (
    id serial PRIMARY KEY,
    email text NOT NULL
);
