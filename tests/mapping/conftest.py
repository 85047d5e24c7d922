"""The landing tests' temporary inbox and home serve the mapping tests too."""

from tests.landing.conftest import home, inbox  # noqa: F401
