"""The Bridge's store: session records, the update log, snapshots and versions (SQLite, Postgres)."""
