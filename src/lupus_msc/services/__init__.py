"""Use cases of the pathway: each runs in the caller's transaction, checks the actor's role and
site, enforces the rules between steps, and leaves every change in the audit trail."""
