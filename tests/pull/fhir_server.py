"""A small FHIR bulk data server for the tests, following the Bulk Data Access IG v2:
kick-off (`$export`, 202 + Content-Location), status (202 + Retry-After while running,
then the JSON manifest), NDJSON file downloads, DELETE of a finished export, and SMART
backend-services tokens (a client-credentials grant with a signed JWT).

No FHIR server can be installed here, so this one is driven by the test: it can answer
429, refuse with an OperationOutcome, expire a token, keep an export running, or drop a
connection half-way through a file. It listens on 127.0.0.1 only.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt

TRANSACTION_TIMES = ["2026-01-31T00:00:00Z", "2026-02-07T00:00:00Z", "2026-02-14T00:00:00Z"]


@dataclass
class Behaviour:
    """What the server does; tests change it between pulls."""

    # resource type -> NDJSON lines the next export holds (an export with _since holds
    # only what was added after the last export, like a real server).
    resources: dict[str, list[dict]] = field(default_factory=dict)
    public_key: str | None = None  # SMART: the client's public key (PEM)
    algorithm: str = "RS384"
    bearer: str | None = None  # a static bearer token, instead of SMART
    pending_polls: int = 1  # status answers 202 this many times per export
    retry_after: str = "0.1"
    status_429_once: bool = True
    kickoff_429_once: bool = False
    kickoff_error: str | None = None  # diagnostics of a 400 OperationOutcome
    expire_token_once: bool = False
    drop_file_once: str | None = None  # resource type whose download breaks once


class FhirServer:
    def __init__(self) -> None:
        self.behaviour = Behaviour()
        self.kickoffs: list[dict[str, str]] = []  # query of each kick-off
        self.token_requests = 0
        self.deletes = 0
        self._tokens: set[str] = set()
        self._exports: dict[str, dict] = {}
        self._lock = threading.Lock()
        self._delivered: dict[str, int] = {}  # type -> lines already exported
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                server.get(self)

            def do_POST(self) -> None:
                server.post(self)

            def do_DELETE(self) -> None:
                server.delete(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- helpers --------------------------------------------------------------------
    def _send(self, h, status: int, body=None, headers: dict[str, str] | None = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        h.send_response(status)
        for key, value in (headers or {}).items():
            h.send_header(key, value)
        if body is not None:
            h.send_header("Content-Type", "application/fhir+json")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def _outcome(self, h, status: int, diagnostics: str) -> None:
        self._send(
            h,
            status,
            {
                "resourceType": "OperationOutcome",
                "issue": [{"severity": "error", "code": "processing", "diagnostics": diagnostics}],
            },
        )

    def _authorised(self, h) -> bool:
        b = self.behaviour
        if b.public_key is None and b.bearer is None:
            return True
        token = (h.headers.get("Authorization") or "").removeprefix("Bearer ")
        valid = token == b.bearer if b.bearer else token in self._tokens
        if valid and b.expire_token_once:
            b.expire_token_once = False
            self._tokens.discard(token)
            valid = False
        if not valid:
            self._outcome(h, 401, "token expired or invalid")
        return valid

    # -- endpoints ------------------------------------------------------------------
    def post(self, h) -> None:
        if h.path != "/token":
            return self._outcome(h, 404, "no such endpoint")
        self.token_requests += 1
        length = int(h.headers.get("Content-Length") or 0)
        form = dict(urllib.parse.parse_qsl(h.rfile.read(length).decode()))
        try:
            claims = jwt.decode(
                form.get("client_assertion", ""),
                self.behaviour.public_key,
                algorithms=[self.behaviour.algorithm],
                audience=f"{self.url}/token",
            )
        except jwt.PyJWTError:
            return self._send(h, 401, {"error": "invalid_client", "error_description": "bad JWT"})
        assert form["grant_type"] == "client_credentials" and claims["iss"] == claims["sub"]
        token = f"tok-{self.token_requests}"
        self._tokens.add(token)
        self._send(h, 200, {"access_token": token, "token_type": "bearer", "expires_in": 300})

    def get(self, h) -> None:
        parsed = urllib.parse.urlsplit(h.path)
        if parsed.path == "/fhir/metadata":
            if self._authorised(h):
                self._send(h, 200, {"resourceType": "CapabilityStatement", "fhirVersion": "4.0.1"})
            return
        if not self._authorised(h):
            return
        if parsed.path.endswith("/$export"):
            return self._kickoff(h, dict(urllib.parse.parse_qsl(parsed.query)))
        if parsed.path.startswith("/status/"):
            return self._status(h, parsed.path.rsplit("/", 1)[1])
        if parsed.path.startswith("/files/"):
            return self._file(h, parsed.path.rsplit("/", 1)[1])
        self._outcome(h, 404, "no such endpoint")

    def delete(self, h) -> None:
        if self._authorised(h):
            self.deletes += 1
            self._send(h, 202)

    def _kickoff(self, h, query: dict[str, str]) -> None:
        b = self.behaviour
        if h.headers.get("Prefer") != "respond-async":
            return self._outcome(h, 400, "Prefer: respond-async is required")
        if b.kickoff_429_once:
            b.kickoff_429_once = False
            return self._send(h, 429, headers={"Retry-After": b.retry_after})
        if b.kickoff_error:
            return self._outcome(h, 400, b.kickoff_error)
        with self._lock:
            self.kickoffs.append(query)
            number = str(len(self.kickoffs))
            wanted = query.get("_type", ",".join(b.resources)).split(",")
            files = {}
            for kind in wanted:
                lines = b.resources.get(kind, [])
                start = self._delivered.get(kind, 0) if "_since" in query else 0
                if lines[start:]:
                    files[kind] = lines[start:]
                self._delivered[kind] = len(lines)
            self._exports[number] = {
                "files": files,
                "polls": b.pending_polls,
                "time": TRANSACTION_TIMES[min(len(self.kickoffs), 3) - 1],
                "request": h.path,
            }
        self._send(h, 202, headers={"Content-Location": f"{self.url}/status/{number}"})

    def _status(self, h, number: str) -> None:
        b = self.behaviour
        export = self._exports.get(number)
        if export is None:
            return self._outcome(h, 404, "no such export")
        if export["polls"] > 0:
            export["polls"] -= 1
            headers = {"Retry-After": b.retry_after, "X-Progress": "in progress"}
            return self._send(h, 202, headers=headers)
        if b.status_429_once:
            b.status_429_once = False
            return self._send(h, 429, headers={"Retry-After": b.retry_after})
        manifest = {
            "transactionTime": export["time"],
            "request": f"{self.url}{export['request']}",
            "requiresAccessToken": True,
            "output": [
                {"type": kind, "url": f"{self.url}/files/{number}-{kind}", "count": len(lines)}
                for kind, lines in export["files"].items()
            ],
            "error": [],
        }
        self._send(h, 200, manifest)

    def _file(self, h, name: str) -> None:
        number, kind = name.split("-", 1)
        lines = self._exports[number]["files"][kind]
        data = "".join(json.dumps(line) + "\n" for line in lines).encode()
        h.send_response(200)
        h.send_header("Content-Type", "application/fhir+ndjson")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        if self.behaviour.drop_file_once == kind:
            self.behaviour.drop_file_once = None
            h.wfile.write(data[: len(data) // 2])
            h.wfile.flush()
            h.close_connection = True
            h.connection.shutdown(2)
            return
        h.wfile.write(data)

    def ndjson(self, kind: str) -> bytes:
        return "".join(json.dumps(line) + "\n" for line in self.behaviour.resources[kind]).encode()
