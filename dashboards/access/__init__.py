"""Access control shared by the dashboards, their downloads and the reports: who is
asking (`principal`), what their role may read (`policy`), how they sign in (`auth`) and
the append-only record of what they did (`audit`)."""

from dashboards.access.principal import (
    AccessDenied,
    Principal,
    Role,
    acting_as,
    current,
    set_current,
)

__all__ = ["AccessDenied", "Principal", "Role", "acting_as", "current", "set_current"]
