"""The kiosk runtime: ``python -m edge`` (kiosk, sync, rollback, bench). Thin: the profiling
logic is the shared ``coldstart`` package in layer/; see edge/README.md."""
