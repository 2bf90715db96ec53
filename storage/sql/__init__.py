"""SQL plumbing shared by the engine, workspace and Bridge stores.

``sqlite.SqliteDatabase`` (one connection, one lock, WAL, migrations on open),
``postgres.PostgresDatabase`` (a bounded pool in the store's own schema, migrations on open),
``migrations.MigrationRunner`` (versioned migrations recorded in a table of the store's own),
and ``base.StoreErrors`` (the error classes a store raises, which the plumbing raises for it).
Importing this package pulls in neither driver.
"""

__all__: list[str] = []
