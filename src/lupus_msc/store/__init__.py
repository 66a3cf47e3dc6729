"""Storage: SQLAlchemy models, engine and sessions, Alembic migrations, the audit hash chain."""
