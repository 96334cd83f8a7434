-- Create "orders" table
CREATE TABLE "orders" ("id" bigint NOT NULL, "customer_id" bigint NOT NULL, PRIMARY KEY ("id"));
