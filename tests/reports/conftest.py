import pytest

from tests.reports import smtp


@pytest.fixture
def smtp_server():
    """A real SMTP server on localhost for the digest tests of the CLI and the asset."""
    with smtp.smtp_server() as server:
        yield server
