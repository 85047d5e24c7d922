"""The dashboard's sign-in gate: a password form, server-side sessions (`sessions`) and a
cookie that holds nothing but the session id.

A password is checked against the user's bcrypt hash; a right one starts a new session
(a fresh random id, any earlier id of this browser ended) and the id goes into the
`clinicops_session` cookie, so that a reload resumes the session without the form. The
server decides everything: an id it does not know (forged, replayed after sign-out, of
a removed user, past its idle or absolute limit, or of a user whose role or password
changed since) resumes nothing and shows the form.

The cookie is written by a small browser component (extra_streamlit_components, which
streamlit-authenticator used): Streamlit has no server-side way to set a cookie, so it
cannot be HttpOnly and page scripts can read it. What limits a stolen id is the server:
sign-out, a password reset, a role change and removal end it at once, and it dies after
the idle and absolute limits whatever the browser does.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import bcrypt
import streamlit as st
from extra_streamlit_components.CookieManager import _component_func as _cookie_component

from dashboards.access import audit, auth, sessions
from dashboards.access.principal import Principal
from dashboards.access.safe_text import md
from pipelines.core.config import Config, User
from pipelines.core.home import Home

_SID = "_clinicops_session_id"
_REFUSED = "_clinicops_refused_ids"  # ids this browser session must not resume again
_COOKIE_WRITES = "_clinicops_cookie_writes"
# Why the form is back (expired, signed out): kept until the next sign-in.
_NOTICE = "_clinicops_sign_in_notice"
# A check for unknown names costs as much as one for a known name, so the time taken
# does not tell which usernames exist.
_DUMMY_HASH = bcrypt.hashpw(b"not a password", bcrypt.gensalt(12))
_ENDED_NOTICE = {
    "idle": "Your session expired after a period without activity: sign in again.",
    "expired": "Your session reached its time limit: sign in again.",
    "changed": "Your account was changed or removed: sign in again.",
}


def client_address() -> str:
    """The client's address as Streamlit sees it; `local` for this machine."""
    address = st.context.ip_address
    return address if isinstance(address, str) and address else "local"


def session_id() -> str | None:
    """This browser session's id, for work done outside the script run (downloads)."""
    return st.session_state.get(_SID)


def _cookie(method: str, token: str | None = None, lifetime_s: float = 0) -> None:
    """Write or delete the session cookie in the browser (SameSite=Strict, path /).

    The component reruns the script once when it has run; its key is new for each write
    and each deletion, and it is drawn only in the run that decides to write or delete,
    so that rerun draws nothing new."""
    count = st.session_state[_COOKIE_WRITES] = st.session_state.get(_COOKIE_WRITES, 0) + 1
    key = f"_clinicops_cookie_{count}"
    if method == "set":
        expires = datetime.now() + timedelta(seconds=lifetime_s)
        options = {"path": "/", "expires": expires.isoformat(), "sameSite": "strict"}
        _cookie_component(
            method="set", cookie=auth.COOKIE_NAME, value=token, options=options, key=key,
            default=False,
        )  # fmt: skip
    else:
        _cookie_component(method="delete", cookie=auth.COOKIE_NAME, key=key, default=False)


def gate(home: Home, config: Config) -> Principal:
    """The signed-in user's principal; otherwise draw the sign-in form and end the run."""
    users = auth.load_users(config, home)
    idle_s = config.access.session_idle_minutes * 60
    max_s = config.access.session_max_hours * 3600
    token, via = st.session_state.get(_SID), "session"
    if token is None:
        # The cookie the browser sent when this connection opened; one already refused
        # (or signed out) in this browser session is not tried again.
        token, via = st.context.cookies.get(auth.COOKIE_NAME), "cookie"
        if not isinstance(token, str) or token in st.session_state.get(_REFUSED, ()):
            token = None  # (headless test runs have no real cookies)
    if token:
        resumed = sessions.resume(home, token, users, idle_s, max_s)
        user = users.get(resumed.username or "")
        principal = auth.principal_of(resumed.username, user) if user else None
        if resumed.why is None:
            if via == "cookie":
                st.session_state[_SID] = token
                audit.record(
                    "login", home=home.root, principal=principal, via="cookie",
                    client=client_address(),
                )  # fmt: skip
            if not _account_box(principal):
                return principal
            sessions.end(home, token)
            audit.record("logout", home=home.root, principal=principal)
            _forget(token, "You are signed out.")
        else:
            if resumed.why in ("idle", "expired"):
                audit.record(
                    "session_expired", home=home.root, principal=principal, why=resumed.why,
                    client=client_address(),
                )  # fmt: skip
            _forget(token, _ENDED_NOTICE.get(resumed.why))
    return _form(home, users, max_s)


def session_live(home: Home, token: str | None) -> bool:
    """Whether a session is live now (work done outside a script run asks this)."""
    from pipelines.core.config import load_config

    config = load_config()
    resumed = sessions.resume(
        home,
        token,
        auth.load_users(config, home),
        config.access.session_idle_minutes * 60,
        config.access.session_max_hours * 3600,
    )
    return resumed.why is None


def _forget(token: str, notice: str | None) -> None:
    """End this browser's session here: the id dropped and never tried again, the cookie
    deleted, and the downloads made meanwhile no longer served."""
    st.session_state.pop(_SID, None)
    st.session_state.setdefault(_REFUSED, set()).add(token)
    if notice:
        st.session_state[_NOTICE] = notice
    _cookie("delete")
    from dashboards.access.sessions import expire_downloads

    expire_downloads()


def _account_box(principal: Principal) -> bool:
    """Who is signed in, and the sign-out button; True when it was clicked."""
    with st.sidebar:
        role = str(principal.role).replace("_", " ") if principal.role else "no role"
        st.caption(f"Signed in as **{md(principal.username)}** ({role})")
        return st.button("Sign out", key="sign_out", icon=":material/logout:")


def _password_ok(user: User | None, password: str) -> bool:
    stored = user.password_hash.encode("ascii") if user else _DUMMY_HASH
    return bcrypt.checkpw(password.encode("utf-8"), stored) and user is not None


def _form(home: Home, users: dict[str, User], max_s: float) -> Principal:
    box = st.empty()
    with box.form("sign_in", clear_on_submit=True):
        st.subheader("Sign in to clinicops")
        if st.session_state.get(_NOTICE):
            st.info(st.session_state[_NOTICE])
        username = st.text_input("Username", key="sign_in_user", autocomplete="username")
        password = st.text_input(
            "Password", key="sign_in_password", type="password", autocomplete="current-password"
        )
        submitted = st.form_submit_button("Sign in", type="primary")
    if not submitted:
        st.stop()
    name, client = username.strip().lower(), client_address()
    wait = sessions.wait_seconds(home, name, client)
    if wait > 0:
        # Not checked and not recorded: a locked name or address cannot flood the log.
        st.error(f"Too many failed sign-ins: try again in {math.ceil(wait)} seconds.")
        st.stop()
    user = users.get(name)
    if name and password and _password_ok(user, password):
        sessions.succeeded(home, name, client)
        token = sessions.start(home, name, user, replaces=st.session_state.get(_SID))
        st.session_state[_SID] = token
        _cookie("set", token, max_s)
        principal = auth.principal_of(name, user)
        audit.record("login", home=home.root, principal=principal, via="password", client=client)
        st.session_state.pop(_NOTICE, None)
        box.empty()
        _account_box(principal)
        return principal
    count, locked = sessions.failed(home, name, client)
    # The name is logged only when it is a user's: a password typed in the user field
    # must not end up in the log.
    who = auth.principal_of(name, user) if user else None
    if count <= sessions.LOCK_AFTER:
        audit.record(
            "login_failed", home=home.root, principal=who, client=client,
            reason="wrong username or password",
        )  # fmt: skip
    if locked:
        audit.record(
            "login_locked", home=home.root, principal=who, client=client,
            minutes=sessions.LOCK_SECONDS // 60,
        )  # fmt: skip
    st.error("Wrong username or password.")
    st.stop()
