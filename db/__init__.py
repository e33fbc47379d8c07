"""Persistence: tables, engine and migrations. Imports neither `workflow` nor `api`."""
