"""FHIR bulk $export pulls against a local server that follows the Bulk Data IG
(tests/pull/fhir_server.py), with SMART backend-services auth."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from pipelines.core.home import Home
from pipelines.pull import check, pull_source
from tests.pull.conftest import (
    config_for,
    inbox_files,
    ledger_files,
    pull_in_process_killed_at,
    write_config,
)
from tests.pull.fhir_server import FhirServer

PATIENTS = [{"resourceType": "Patient", "id": f"pat-{n}"} for n in range(3)]
APPOINTMENTS = [
    {"resourceType": "Appointment", "id": f"appt-{n}", "status": "fulfilled"} for n in range(4)
]


def key_pair(algorithm: str) -> tuple[str, str]:
    private = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if algorithm == "RS384"
        else ec.generate_private_key(ec.SECP384R1())
    )
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return pem, public


@pytest.fixture(scope="module")
def keys() -> dict[str, tuple[str, str]]:
    return {alg: key_pair(alg) for alg in ("RS384", "ES384")}


@pytest.fixture
def server(keys):
    fhir = FhirServer()
    fhir.behaviour.resources = {"Patient": list(PATIENTS), "Appointment": list(APPOINTMENTS)}
    fhir.behaviour.public_key = keys["RS384"][1]
    yield fhir
    fhir.stop()


@pytest.fixture
def smart_home(home: Home, keys) -> Home:
    (home.secrets / "fhir_key.pem").write_text(keys["RS384"][0])
    return home


def source(server: FhirServer, algorithm: str = "RS384", **extra) -> dict:
    return {
        "ehr": {
            "kind": "fhir",
            "base_url": f"{server.url}/fhir",
            "types": ["Patient", "Appointment"],
            "auth": {
                "kind": "smart",
                "token_url": f"{server.url}/token",
                "client_id": "clinicops",
                "private_key": "file:fhir_key.pem",
                "algorithm": algorithm,
                "key_id": "k1",
            },
            "max_wait_seconds": 30,
            "retries": 2,
            **extra,
        }
    }


def lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("algorithm", ["RS384", "ES384"])
def test_first_pull_nothing_new_then_new_resources(home: Home, keys, server, algorithm):
    (home.secrets / "fhir_key.pem").write_text(keys[algorithm][0])
    server.behaviour.public_key = keys[algorithm][1]
    server.behaviour.algorithm = algorithm
    server.behaviour.pending_polls = 2  # two 202s with Retry-After, then a 429, then done
    config = config_for(source(server, algorithm))

    first = pull_source(home, config, "ehr")
    assert first.ok, first.error
    assert server.kickoffs[0] == {"_outputFormat": "application/fhir+ndjson",
                                  "_type": "Patient,Appointment"}  # fmt: skip
    by_type = {p.name.split("_")[0]: p for p in first.files}
    assert sorted(by_type) == ["Appointment", "Patient"]
    assert all(p.parent.name == "fhir" for p in first.files)
    assert lines(by_type["Patient"]) == PATIENTS
    assert by_type["Appointment"].read_bytes() == server.ndjson("Appointment")
    assert server.deletes == 1  # the finished export is released on the server

    second = pull_source(home, config, "ehr")
    assert second.ok and second.files == []
    assert server.kickoffs[1]["_since"] == "2026-01-31T00:00:00Z"
    assert "the export found nothing new" in second.notes

    server.behaviour.resources["Appointment"].append(
        {"resourceType": "Appointment", "id": "appt-new", "status": "booked"}
    )
    third = pull_source(home, config, "ehr")
    new = {"resourceType": "Appointment", "id": "appt-new", "status": "booked"}
    assert [lines(p) for p in third.files] == [[new]]
    assert server.kickoffs[2]["_since"] == "2026-02-07T00:00:00Z"


def test_an_export_still_running_is_resumed_not_started_again(smart_home, server):
    home = smart_home
    server.behaviour.pending_polls = 1000
    server.behaviour.retry_after = "0.2"
    config = config_for(source(server, max_wait_seconds=0.5))
    during = pull_source(home, config, "ehr")
    assert during.ok and during.files == []
    assert any("still running" in n for n in during.notes)
    server._exports["1"]["polls"] = 0  # the server finishes the export
    after = pull_source(home, config, "ehr")
    assert len(after.files) == 2 and len(server.kickoffs) == 1


def test_a_dropped_connection_is_retried_and_no_half_file_lands(smart_home, server):
    home = smart_home
    server.behaviour.drop_file_once = "Appointment"
    result = pull_source(home, config_for(source(server)), "ehr")
    assert result.ok, result.error
    assert server.behaviour.drop_file_once is None  # the first download did break
    assert sorted(p.name.split("_")[0] for p in inbox_files(home)) == ["Appointment", "Patient"]
    appointment = next(p for p in result.files if p.name.startswith("Appointment"))
    assert appointment.read_bytes() == server.ndjson("Appointment")
    assert len(server.kickoffs) == 1  # the retry resumed the same export


def test_wrong_credentials_say_so_and_land_nothing(home: Home, keys, server):
    (home.secrets / "fhir_key.pem").write_text(keys["ES384"][0])  # not the key the server knows
    result = pull_source(home, config_for(source(server, "ES384")), "ehr")
    assert not result.ok and "auth refused by the token endpoint" in result.error
    assert "bad JWT" in result.error and not result.transient
    assert inbox_files(home) == []


def test_a_wrong_bearer_token_is_refused_after_one_renewal(home: Home, server, monkeypatch):
    server.behaviour.public_key = None
    server.behaviour.bearer = "the-right-token"
    monkeypatch.setenv("EHR_TOKEN", "a-wrong-token")
    bearer = source(server)
    bearer["ehr"]["auth"] = {"kind": "bearer", "token": "env:EHR_TOKEN"}
    result = pull_source(home, config_for(bearer), "ehr")
    assert not result.ok and "auth refused" in result.error
    assert "a-wrong-token" not in result.error
    monkeypatch.setenv("EHR_TOKEN", "the-right-token")
    assert len(pull_source(home, config_for(bearer), "ehr").files) == 2


def test_an_expired_token_is_renewed_once(smart_home, server):
    home = smart_home
    server.behaviour.expire_token_once = True
    result = pull_source(home, config_for(source(server)), "ehr")
    assert result.ok, result.error
    assert server.token_requests == 2 and len(result.files) == 2


def test_an_error_operation_outcome_gives_a_clear_message(smart_home, server):
    home = smart_home
    server.behaviour.kickoff_429_once = True
    server.behaviour.kickoff_error = "The _type parameter names an unsupported type: Foo"
    result = pull_source(home, config_for(source(server)), "ehr")
    assert not result.ok
    assert result.error == (
        "ehr: the export was refused (HTTP 400: The _type parameter names an unsupported type: Foo)"
    )
    assert inbox_files(home) == []


def test_sources_test_reaches_and_authenticates(smart_home, server):
    home = smart_home
    report = check(home, config_for(source(server)))["ehr"]
    assert report == [f"reached {server.url}/fhir (FHIR 4.0.1)", "authenticated (smart)"]
    closed = source(server)
    closed["ehr"]["base_url"] = "http://127.0.0.1:9/fhir"
    closed["ehr"]["auth"] = {"kind": "none"}
    assert "host unreachable" in check(home, config_for(closed))["ehr"]


@pytest.mark.parametrize("fault", ["pull.download", "pull.renamed"])
def test_a_killed_pull_is_completed_once_by_the_next(smart_home, server, tmp_path, fault):
    home = smart_home
    server.behaviour.status_429_once = False
    config_file = write_config(tmp_path / "clinicops.yaml", source(server))
    assert pull_in_process_killed_at(home, config_file, fault) == -9
    following = pull_source(home, config_for(source(server)), "ehr")
    assert following.ok, following.error
    files = inbox_files(home)
    assert sorted(p.name.split("_")[0] for p in files) == ["Appointment", "Patient"]
    assert len(ledger_files(home, "ehr")) == 2
    assert len(server.kickoffs) == 1  # the export the killed pull started was resumed
