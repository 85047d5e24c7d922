"""Model: the dbt build, its child process, the warehouse lock and seeds."""
