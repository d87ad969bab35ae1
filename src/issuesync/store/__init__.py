"""The store: SQLAlchemy tables, the unit of work and the Alembic migrations."""
