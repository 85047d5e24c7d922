"""dbt's `modules` for sqlfluff's Jinja templater: the standard modules dbt exposes."""

import datetime  # noqa: F401
import re  # noqa: F401
