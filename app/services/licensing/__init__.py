"""E-licences (电子证照): issued and signed when a granted case is issued, verified publicly, revoked by
heads. Sits above timelimits and below workbench in the service layering (docs/architecture.md)."""
