"""The web application: JSON API under /api/v1 (HTML pages and FHIR come later)."""
