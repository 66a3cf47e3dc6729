"""Execution options the store understands."""

READ_ONLY = "lupus_msc_read_only"
"""This connection only reads: on SQLite its transaction stays DEFERRED and takes no write lock."""
