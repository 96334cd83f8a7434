-- owner: @accounts-team
-- expect: customers can sign up
-- rollback: DROP TABLE customers;
CREATE TABLE customers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL
);
