"""Alembic environment: runs on the connection the archive hands over."""

from alembic import context

from hounsfield.archive.index.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata,
                  render_as_batch=connection.dialect.name == "sqlite",
                  transactional_ddl=True)  # SQLite too: one commit, not one fsync per DDL
with context.begin_transaction():
    context.run_migrations()
