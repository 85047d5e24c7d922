"""Landing of standard formats: files that are not one contract's CSV.

An X12 835 remittance (x12.py) or a FHIR R4 bulk-data NDJSON file (fhir.py) is turned
into the same thing a CSV reader yields: text frames of contract columns with `_line`,
`_extra` and `_problem` (pipelines/landing/files.py), so that validation,
pseudonymisation, the ledger, rejects and re-delivery treat them exactly like a CSV.
`standard.py` says which files these are and reads one into its frames.
"""
