from tests.landing.conftest import home, inbox, land  # noqa: F401 (shared fixtures)
