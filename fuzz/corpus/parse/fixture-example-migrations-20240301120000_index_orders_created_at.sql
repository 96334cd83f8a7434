-- owner: @payments-team
-- expect: plan "SELECT * FROM orders WHERE created_at > now() - interval '1 day'" uses index orders_created_at_idx
CREATE INDEX orders_created_at_idx ON orders (created_at);
