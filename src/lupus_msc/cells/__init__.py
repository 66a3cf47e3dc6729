"""Pure cell-product rules: release checks, dose, identity codes, lot states (no I/O)."""
