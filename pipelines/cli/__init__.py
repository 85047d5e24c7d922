"""The `clinicops` command line: one module per command group."""
