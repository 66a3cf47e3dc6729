"""Columnar versions of the instruments over a visit table (polars), one row per visit.

The visit table's columns are defined in ``schema``; ``frame.prepare`` validates a table and turns
every decimal column into exact fixed-point integers; the instrument modules then add their result
columns with polars expressions. Every batch result must equal the single-record result of the
same row (property tests in tests/clinical/batch).
"""
