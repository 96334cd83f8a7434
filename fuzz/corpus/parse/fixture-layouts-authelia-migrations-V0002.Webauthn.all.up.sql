CREATE TABLE IF NOT EXISTS webauthn_devices (
    id INTEGER NOT NULL,
    username VARCHAR(100) NOT NULL,
    PRIMARY KEY (id)
);
