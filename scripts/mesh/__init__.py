"""Brings the local mesh up and down: tools, generated code, keys, PostgreSQL, supervisord."""
