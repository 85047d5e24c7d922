"""The `pull:` section of the practice config: what it refuses, with one clear message."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tests.pull.conftest import config_for

SFTP = {"kind": "sftp", "host": "h", "user": "u", "key": "file:k"}
SQL = {
    "kind": "sql",
    "url": "postgresql+psycopg://reader@db/pm",
    "entities": {"payers": {"query": "SELECT * FROM payers"}},
}


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ({**SFTP, "key": None}, "needs `key` or `password`"),
        ({**SFTP, "password": "hunter2"}, "String should match pattern"),
        ({**SQL, "url": "postgresql+psycopg://reader:hunter2@db/pm"}, "carries a password"),
        ({**SQL, "url": "oracle://reader@db/pm"}, "not supported"),
        ({**SQL, "entities": {"patients": {"query": "SELECT 1"}}}, "unknown entity 'patients'"),
        ({**SQL, "entities": {"payers": {"query": "UPDATE payers SET x = 1"}}}, "only a SELECT"),
        ({**SQL, "preset": "no_such_system"}, "preset 'no_such_system'"),
        ({"kind": "fhir", "base_url": "x", "auth": {"kind": "smart"}}, "smart auth needs"),
        ({"kind": "ftp", "host": "h"}, "does not match any of the expected tags"),
    ],
)
def test_a_bad_source_is_refused_with_its_reason(source, message):
    with pytest.raises(ValidationError, match=message):
        config_for({"src": {k: v for k, v in source.items() if v is not None}})


def test_source_names_are_plain_words():
    with pytest.raises(ValidationError, match="lower-case letters"):
        config_for({"Vendor-Drop": SFTP})


def test_the_openemr_preset_fills_the_entities_and_the_config_can_replace_one():
    config = config_for(
        {
            "oe": {
                "kind": "sql",
                "url": "mysql+pymysql://reader@db/openemr",
                "preset": "openemr",
                "entities": {"payers": {"query": "SELECT 'x' AS payer_id"}},
            }
        }
    )
    entities = config.pull.sources["oe"].entities
    assert set(entities) == {
        "locations", "providers", "payers", "appointments", "charges", "claims", "transactions",
    }  # fmt: skip
    assert entities["payers"].query == "SELECT 'x' AS payer_id"
