"""``lupus-msc import …``: data brought into the registry from other systems (issue 8).

Each format's command lives in its own module and registers itself on ``app`` (see
``cli/__init__.py``). Every import is all or nothing, goes through the services as the system
actor (no one is signed in on the command line) and so writes the audit trail.
"""

from __future__ import annotations

import typer

app = typer.Typer(help="Import data from other systems (REDCap projects, FHIR Bundles).")
