"""Storage: the database engines, every node table (one ``MetaData``) and the Alembic
migrations.
"""
