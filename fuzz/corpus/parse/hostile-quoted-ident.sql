CREATE TABLE "we;ird"("a""b" int);
ALTER TABLE "we;ird" ADD COLUMN "c" int NOT NULL;
