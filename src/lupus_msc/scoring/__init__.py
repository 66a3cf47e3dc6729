"""The score interface (instruments.md §16): the instrument registry and exact JSON in and out."""
