//! Evidence from a real database: the only modules that talk to PostgreSQL.
