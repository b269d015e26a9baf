"""Services: what the system does, with no HTTP in it. Packages by bounded context, lowest first:
identity → messaging → casework → documents → timelimits → workbench → admin → portal. A package imports
only those before it (tests/unit/test_architecture.py checks for cycles). Beside them: the shared kernel
(`context`, `events`, `calendar`) and the composition root (`wiring`, `demo`)."""
