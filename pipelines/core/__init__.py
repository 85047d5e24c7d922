"""Core: configuration, the home's folder layout, the contracts, faults.

Every stage imports this package and nothing else of its neighbours."""
