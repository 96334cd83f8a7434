DROP TABLE IF EXISTS webauthn_devices;
