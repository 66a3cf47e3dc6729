"""Interoperability: FHIR, CDISC, REDCap, de-identified exports (DESIGN.md)."""
