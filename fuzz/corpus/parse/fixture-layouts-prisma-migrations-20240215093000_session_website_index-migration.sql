-- CreateIndex
CREATE INDEX "session_website_id_idx" ON "session"("website_id");
