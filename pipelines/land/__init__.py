"""Landing stage: reading, mapping and routing delivered files (see pipelines/landing/)."""
