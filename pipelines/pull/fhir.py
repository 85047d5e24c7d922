"""FHIR bulk data `$export` client (HL7 FHIR Bulk Data Access IG v2).

Kick-off (system or group level, `_type`, `_since` = the transaction time of the last
export fetched whole), then the status URL is polled, honouring `Retry-After` on 202
and on 429, until the manifest arrives; each NDJSON file of its `output` is downloaded
into the inbox (one resource type per file, as the server wrote it; landing reads them).

An export still running after `max_wait_seconds` is not abandoned: its status URL is
kept in the pull ledger and the next poll resumes it instead of starting another. A
file already fetched from a manifest is not fetched again when a broken poll resumes.

Auth is none, a bearer token, or SMART backend services: an OAuth2 client-credentials
grant with a JWT signed by the practice's key (RS384 or ES384). A 401 is answered by
authenticating again, once; a second 401 is "auth refused".
"""

from __future__ import annotations

import contextlib
import time
import uuid
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import requests

from pipelines.core import faults
from pipelines.core.config import FhirSource
from pipelines.pull.base import NetworkError, Outcome, PullContext, PullError, stamp

CHUNK = 256 * 1024
FHIR_JSON = "application/fhir+json"
NDJSON = "application/fhir+ndjson"
DEFAULT_WAIT = 2.0


def _outcome_text(response: requests.Response) -> str:
    """The diagnostics of an OperationOutcome body, else the HTTP status line."""
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code} {response.reason}"
    if isinstance(body, dict) and body.get("resourceType") == "OperationOutcome":
        texts = [
            i.get("diagnostics") or (i.get("details") or {}).get("text") or i.get("code", "")
            for i in body.get("issue", [])
        ]
        return f"HTTP {response.status_code}: " + "; ".join(t for t in texts if t)
    if isinstance(body, dict) and body.get("error"):
        return f"HTTP {response.status_code}: {body.get('error_description') or body['error']}"
    return f"HTTP {response.status_code} {response.reason}"


def _retry_after(response: requests.Response) -> float:
    value = response.headers.get("Retry-After")
    if not value:
        return DEFAULT_WAIT
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
        except (TypeError, ValueError):
            return DEFAULT_WAIT


class Client:
    """HTTP with the source's auth: re-authenticates once on a 401."""

    def __init__(self, ctx: PullContext, src: FhirSource) -> None:
        self.ctx = ctx
        self.src = src
        self.http = requests.Session()
        self._token: str | None = None

    def close(self) -> None:
        self.http.close()

    def _authenticate(self) -> None:
        auth = self.src.auth
        if auth.kind == "bearer":
            assert auth.token is not None
            self._token = self.ctx.secret(auth.token)
        elif auth.kind == "smart":
            self._token = self._smart_token()

    def _smart_token(self) -> str:
        import jwt

        auth = self.src.auth
        assert auth.private_key and auth.token_url and auth.client_id
        now = int(time.time())
        claims = {
            "iss": auth.client_id,
            "sub": auth.client_id,
            "aud": auth.token_url,
            "exp": now + 300,
            "jti": str(uuid.uuid4()),
        }
        headers = {"kid": auth.key_id} if auth.key_id else None
        try:
            assertion = jwt.encode(
                claims, self.ctx.secret(auth.private_key), algorithm=auth.algorithm, headers=headers
            )
        except (ValueError, TypeError, jwt.PyJWTError) as exc:
            raise PullError(
                f"{self.ctx.name}: the private key {auth.private_key} cannot sign "
                f"{auth.algorithm}: {exc}"
            ) from None
        form = {
            "grant_type": "client_credentials",
            "scope": auth.scope,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
        }
        response = self._send("POST", auth.token_url, data=form, authenticated=False)
        if response.status_code != 200:
            raise PullError(
                f"{self.ctx.name}: auth refused by the token endpoint ({_outcome_text(response)})"
            )
        try:
            return response.json()["access_token"]
        except (ValueError, KeyError):
            raise PullError(f"{self.ctx.name}: the token endpoint sent no access_token") from None

    def _send(self, method: str, url: str, *, authenticated: bool = True, **kwargs):
        headers = dict(kwargs.pop("headers", {}))
        if authenticated and self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        try:
            return self.http.request(
                method, url, headers=headers, timeout=self.src.timeout_seconds, **kwargs
            )
        except requests.ConnectionError as exc:
            raise NetworkError(
                f"{self.ctx.name}: host unreachable ({url}): {_reason(exc)}"
            ) from None
        except requests.Timeout:
            raise NetworkError(f"{self.ctx.name}: no answer from {url} (timed out)") from None

    def request(self, method: str, url: str, **kwargs) -> requests.Response:
        """A request, authenticated; on a 401 the token is renewed once and it is sent again."""
        if self._token is None and self.src.auth.kind != "none":
            self._authenticate()
        response = self._send(method, url, **kwargs)
        if response.status_code == 401 and self.src.auth.kind != "none":
            response.close()
            self.ctx.say(f"{self.ctx.name}: token refused or expired; authenticating again")
            self._authenticate()
            response = self._send(method, url, **kwargs)
        if response.status_code == 401:
            raise PullError(f"{self.ctx.name}: auth refused ({_outcome_text(response)})")
        if response.status_code == 403:
            raise PullError(f"{self.ctx.name}: permission refused ({_outcome_text(response)})")
        return response


def _reason(exc: Exception) -> str:
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "timed out", "reset"):
        if marker.lower() in text.lower():
            return marker
    return type(exc).__name__


def _kickoff_url(src: FhirSource) -> str:
    base = src.base_url.rstrip("/")
    return f"{base}/Group/{src.group_id}/$export" if src.group_id else f"{base}/$export"


def _kickoff(client: Client, since: str | None) -> str:
    src = client.src
    params = {"_outputFormat": NDJSON}
    if src.types:
        params["_type"] = ",".join(src.types)
    if since:
        params["_since"] = since
    headers = {"Accept": FHIR_JSON, "Prefer": "respond-async"}
    deadline = time.monotonic() + src.max_wait_seconds
    while True:
        response = client.request("GET", _kickoff_url(src), params=params, headers=headers)
        if response.status_code == 429 and time.monotonic() < deadline:
            time.sleep(_retry_after(response))
            continue
        if response.status_code != 202:
            raise PullError(
                f"{client.ctx.name}: the export was refused ({_outcome_text(response)})"
            )
        location = response.headers.get("Content-Location")
        if not location:
            raise PullError(
                f"{client.ctx.name}: the server accepted the export but gave no status URL"
            )
        return location


def _manifest(client: Client, status_url: str) -> dict | None:
    """The manifest, or None when the export is still running at the deadline."""
    deadline = time.monotonic() + client.src.max_wait_seconds
    while True:
        response = client.request("GET", status_url, headers={"Accept": "application/json"})
        if response.status_code == 200:
            try:
                return response.json()
            except ValueError:
                raise PullError(f"{client.ctx.name}: the export's manifest is not JSON") from None
        if response.status_code in (202, 429):
            wait = _retry_after(response)
            if time.monotonic() + wait > deadline:
                return None
            progress = response.headers.get("X-Progress")
            if progress:
                client.ctx.say(f"{client.ctx.name}: export running: {progress}")
            time.sleep(wait)
            continue
        raise PullError(f"{client.ctx.name}: the export failed ({_outcome_text(response)})")


def fetch(ctx: PullContext, src: FhirSource) -> Outcome:
    outcome = Outcome()
    client = Client(ctx, src)
    try:
        status_url = ctx.ledger.get(ctx.name, "status_url")
        if status_url is None:
            status_url = _kickoff(client, ctx.ledger.get(ctx.name, "since"))
            ctx.ledger.put(ctx.name, "status_url", status_url)
            ctx.say(f"{ctx.name}: export started")
        else:
            ctx.say(f"{ctx.name}: resuming the export started by an earlier poll")
        try:
            manifest = _manifest(client, status_url)
        except PullError as exc:
            if not exc.transient:
                ctx.ledger.put(ctx.name, "status_url", None)  # a failed export is not resumed
            raise
        if manifest is None:
            outcome.notes.append(
                "the export is still running on the server; the next poll resumes it"
            )
            return outcome
        for error in manifest.get("error", []):
            outcome.notes.append(
                f"the server reported an error file for {error.get('type')}: {error.get('url')}"
            )
        token_needed = manifest.get("requiresAccessToken", True)
        for number, item in enumerate(manifest.get("output", [])):
            url = item["url"]
            if ctx.ledger.last_sha256(ctx.name, url) is not None:
                continue
            path = _download(client, url, item.get("type", "Resource"), number, token_needed)
            outcome.files.append(path)
        ctx.ledger.put(ctx.name, "since", manifest.get("transactionTime"))
        ctx.ledger.put(ctx.name, "status_url", None)
        _forget(client, status_url)
        if not manifest.get("output"):
            outcome.notes.append("the export found nothing new")
    finally:
        client.close()
    return outcome


def _download(client: Client, url: str, kind: str, number: int, token_needed: bool):
    ctx, src = client.ctx, client.src
    name = f"{kind}_{stamp()}_{number:03d}.ndjson"
    part = ctx.part(src.folder or "fhir", name)
    try:
        send = (
            client.request
            if token_needed
            else (lambda m, u, **k: client._send(m, u, authenticated=False, **k))
        )
        with send("GET", url, headers={"Accept": NDJSON}, stream=True) as response:
            if response.status_code != 200:
                raise PullError(
                    f"{ctx.name}: download of {kind} failed ({_outcome_text(response)})"
                )
            expected = response.headers.get("Content-Length")
            for data in response.iter_content(CHUNK):
                part.write(data)
                faults.point("pull.download")
        if expected is not None and part.size != int(expected):
            raise NetworkError(
                f"{ctx.name}: {kind}: the download stopped at {part.size} of {expected} bytes"
            )
    except requests.RequestException as exc:
        part.discard()
        raise NetworkError(
            f"{ctx.name}: {kind}: connection lost during the download ({_reason(exc)})"
        ) from None
    except BaseException:
        part.discard()
        raise
    path = ctx.commit(part, url)
    ctx.say(f"{ctx.name}: fetched {kind} ({part.size:,} bytes) -> {path}")
    return path


def _forget(client: Client, status_url: str) -> None:
    """Tell the server its files may go (IG: DELETE on the status URL); best effort."""
    with contextlib.suppress(PullError):
        client.request("DELETE", status_url).close()


def check(ctx: PullContext, src: FhirSource) -> list[str]:
    """Authenticate and read the server's CapabilityStatement."""
    client = Client(ctx, src)
    try:
        response = client.request(
            "GET", f"{src.base_url.rstrip('/')}/metadata", headers={"Accept": FHIR_JSON}
        )
        if response.status_code != 200:
            raise PullError(f"{ctx.name}: the server's metadata: {_outcome_text(response)}")
        try:
            body = response.json()
        except ValueError:
            raise PullError(
                f"{ctx.name}: {src.base_url} does not answer as a FHIR server"
            ) from None
        lines = [f"reached {src.base_url} (FHIR {body.get('fhirVersion', '?')})"]
        if src.auth.kind != "none":
            lines.append(f"authenticated ({src.auth.kind})")
        pending = ctx.ledger.get(ctx.name, "status_url")
        if pending:
            lines.append(f"an export started earlier is pending: {pending}")
        return lines
    finally:
        client.close()
