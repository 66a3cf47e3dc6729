"""Pure clinical instruments (no I/O). Each module implements one section of instruments.md."""
