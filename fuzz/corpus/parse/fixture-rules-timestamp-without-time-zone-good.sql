-- owner: @scheduling-team
-- expect: appointments can be booked through the new API
-- rollback: DROP TABLE appointments;
CREATE TABLE appointments (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id bigint NOT NULL,
    starts_at timestamptz NOT NULL
);
