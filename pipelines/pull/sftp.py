"""SFTP drops: fetch each new, complete file a vendor leaves on its server.

New means not fetched before with the same name, size and modification time (the pull
ledger). Complete means its size and modification time did not change across
`settle_seconds`, and did not change while it was downloaded; a file still being
written is left for the next poll. A download is checked against the size the server
reported before it is committed; only then is it moved to `archive_dir`, if set.
"""

from __future__ import annotations

import fnmatch
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import PurePosixPath

import paramiko

from pipelines.core import faults
from pipelines.core.config import SftpSource
from pipelines.pull.base import NetworkError, Outcome, PullContext, PullError, entity_folder

CHUNK = 256 * 1024
REPORT_EVERY = 4 * 1024 * 1024
_NETWORK = (OSError, EOFError, paramiko.SSHException)


@contextmanager
def connect(ctx: PullContext, src: SftpSource) -> Iterator[paramiko.SFTPClient]:
    """An SFTP session, or a PullError naming what is wrong (never a secret)."""
    where = f"{ctx.name}: {src.user}@{src.host}:{src.port}"
    known_hosts = ctx.secret_path(src.known_hosts)
    client = paramiko.SSHClient()
    if not known_hosts.exists():
        raise PullError(
            f"{where}: no known_hosts file at {known_hosts}; add the server's host key "
            f"(ssh-keyscan -p {src.port} {src.host} > {known_hosts}) after checking it"
        )
    client.load_host_keys(str(known_hosts))
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    pkey = _private_key(ctx, src) if src.key else None
    password = ctx.secret(src.password) if src.password else None
    try:
        client.connect(
            src.host,
            port=src.port,
            username=src.user,
            pkey=pkey,
            password=password,
            timeout=src.timeout_seconds,
            banner_timeout=src.timeout_seconds,
            auth_timeout=src.timeout_seconds,
            allow_agent=False,
            look_for_keys=False,
        )
    except paramiko.BadHostKeyException:
        client.close()
        raise PullError(
            f"{where}: the server's host key does not match {known_hosts}; refusing to connect"
        ) from None
    except paramiko.AuthenticationException:
        client.close()
        raise PullError(f"{where}: auth refused (check the user and its key or password)") from None
    except paramiko.SSHException as exc:
        client.close()
        if "not found in known_hosts" in str(exc):
            raise PullError(
                f"{where}: the server's host key is not in {known_hosts}; refusing to connect"
            ) from None
        raise NetworkError(f"{where}: SSH failed: {exc}") from None
    except TimeoutError:
        client.close()
        raise NetworkError(f"{where}: host unreachable (timed out)") from None
    except OSError as exc:
        client.close()
        raise NetworkError(f"{where}: host unreachable ({exc.strerror or exc})") from None
    try:
        sftp = client.open_sftp()
        sftp.get_channel().settimeout(src.timeout_seconds)
        yield sftp
    finally:
        client.close()


def _private_key(ctx: PullContext, src: SftpSource) -> paramiko.PKey:
    import io

    assert src.key is not None
    text = ctx.secret(src.key)
    passphrase = None
    for loader in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return loader.from_private_key(io.StringIO(text), password=passphrase)
        except paramiko.SSHException:
            continue
    raise PullError(f"{ctx.name}: the key {src.key} is not an OpenSSH private key")


def _listing(
    ctx: PullContext, src: SftpSource, sftp: paramiko.SFTPClient
) -> dict[str, paramiko.SFTPAttributes]:
    try:
        entries = sftp.listdir_attr(src.remote_dir)
    except FileNotFoundError:
        raise PullError(f"{ctx.name}: folder missing on the server: {src.remote_dir}") from None
    except PermissionError:
        raise PullError(f"{ctx.name}: no permission to list {src.remote_dir}") from None
    return {
        e.filename: e
        for e in entries
        if e.st_mode is not None
        and stat.S_ISREG(e.st_mode)
        and not e.filename.startswith(".")
        and not e.filename.endswith((".part", ".tmp"))
        and any(fnmatch.fnmatch(e.filename, p) for p in src.patterns)
    }


def fetch(ctx: PullContext, src: SftpSource) -> Outcome:
    outcome = Outcome()
    with connect(ctx, src) as sftp:
        try:
            seen = _listing(ctx, src, sftp)
            new = {
                name: attrs
                for name, attrs in seen.items()
                if not ctx.ledger.is_fetched(ctx.name, name, attrs.st_size, attrs.st_mtime)
            }
            if new and src.settle_seconds:
                time.sleep(src.settle_seconds)
                again = _listing(ctx, src, sftp)
                for name in sorted(new):
                    now = again.get(name)
                    if now is None or (now.st_size, now.st_mtime) != (
                        new[name].st_size,
                        new[name].st_mtime,
                    ):
                        outcome.notes.append(f"{name}: still being written, left for the next poll")
                        del new[name]
            for name in sorted(new):
                path = _download(ctx, src, sftp, name, new[name], outcome)
                if path is not None:
                    outcome.files.append(path)
        except _NETWORK as exc:
            raise NetworkError(
                f"{ctx.name}: connection lost: {exc or type(exc).__name__}"
            ) from None
    return outcome


def _download(
    ctx: PullContext,
    src: SftpSource,
    sftp: paramiko.SFTPClient,
    name: str,
    attrs: paramiko.SFTPAttributes,
    outcome: Outcome,
):
    remote = str(PurePosixPath(src.remote_dir) / name)
    folder = src.folder or entity_folder(name) or ctx.name
    part = ctx.part(folder, name)
    try:
        with sftp.open(remote, "rb") as fh:
            fh.prefetch(attrs.st_size)  # pipelined reads: far faster than one at a time
            reported = 0
            while data := fh.read(CHUNK):
                part.write(data)
                faults.point("pull.download")
                if part.size - reported >= REPORT_EVERY:
                    reported = part.size
                    ctx.say(f"{ctx.name}: {name}: {part.size / 1e6:,.0f} MB")
        after = sftp.stat(remote)
    except FileNotFoundError:
        part.discard()
        outcome.notes.append(f"{name}: gone from the server before it was fetched")
        return None
    except BaseException:
        part.discard()
        raise
    if (after.st_size, after.st_mtime) != (attrs.st_size, attrs.st_mtime) or part.size != (
        attrs.st_size
    ):
        part.discard()
        outcome.notes.append(f"{name}: changed while it was downloaded, left for the next poll")
        return None
    path = ctx.commit(part, name, mtime=attrs.st_mtime)
    ctx.say(f"{ctx.name}: fetched {name} ({part.size:,} bytes) -> {path}")
    if src.archive_dir:
        _archive(ctx, src, sftp, remote, name, outcome)
    return path


def _archive(ctx, src: SftpSource, sftp: paramiko.SFTPClient, remote: str, name: str, outcome):
    target = str(PurePosixPath(src.archive_dir) / name)
    try:
        sftp.posix_rename(remote, target)
    except OSError as exc:
        # The file is fetched and recorded; failing to tidy the server is reported, and
        # the file is not fetched again (same name, size and time).
        outcome.notes.append(f"{name}: fetched, but not moved to {src.archive_dir}: {exc}")


def check(ctx: PullContext, src: SftpSource) -> list[str]:
    """Connect, list the folder, and say what a pull would find."""
    with connect(ctx, src) as sftp:
        files = _listing(ctx, src, sftp)
        lines = [f"connected to {src.host}:{src.port} as {src.user}"]
        lines.append(f"{src.remote_dir}: {len(files)} file(s) match {', '.join(src.patterns)}")
        if src.archive_dir:
            try:
                sftp.stat(src.archive_dir)
            except FileNotFoundError:
                raise PullError(
                    f"{ctx.name}: archive folder missing on the server: {src.archive_dir}"
                ) from None
            lines.append(f"archive folder {src.archive_dir} exists")
    return lines
