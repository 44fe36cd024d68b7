"""Persistence: SQLAlchemy 2 models, engine set-up, named queries, Alembic migrations."""
