DROP TABLE "networks";
