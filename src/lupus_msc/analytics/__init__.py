"""Outcomes analytics: pure calculations over plain numbers (issue 7)."""
