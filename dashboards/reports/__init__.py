"""Reports built from the serving database: the board deck (PPTX + PDF) and the weekly
digest with alerts. They read `marts.kpi_values`, its one status `marts.kpi_status`
and the KPI catalog, and never compute a KPI or judge one: a quarter only combines its
months the way KPI_SPEC.md allows (sums of flows, point-in-time values at its last month,
rates from numerators and denominators).
"""
