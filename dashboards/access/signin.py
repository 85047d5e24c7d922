"""The dashboard's sign-in gate, on streamlit-authenticator (checked with Streamlit 1.67 in
headless Chromium: password check, signed re-authentication cookie, sign-out).

The library checks the bcrypt hash and keeps the signed cookie that lets a reload skip
the form. Its own login widget is not used: it cannot say whether a run followed a failed
submission or was an ordinary rerun, and the audit log needs each failure once, with the
user named only when the name is a configured user. The form here hands what was typed
to the library's `authentication_controller` instead.

Sessions expire after `access.session_idle_minutes` without a script run: the session
remembers its last run, and the cookie lives for the same idle window (renewed while the
user is active), so a reload after an idle spell asks for the password too.
"""

from __future__ import annotations

import time

import streamlit as st
import streamlit_authenticator as stauth
from streamlit_authenticator.utilities.exceptions import LoginError

from dashboards.access import audit, auth
from dashboards.access.principal import Principal
from dashboards.safe_text import md
from pipelines.config import Config, User
from pipelines.lake import Home

_LAST_SEEN = "_clinicops_last_seen"
_COOKIE_AT = "_clinicops_cookie_set_at"
# Why the form is back (expired, signed out): kept until the next sign-in, because the
# cookie component's rerun right after a sign-out redraws the form.
_NOTICE = "_clinicops_sign_in_notice"


def _credentials(users: dict[str, User]) -> dict:
    return {
        "usernames": {
            name: {
                "first_name": name,
                "last_name": "",
                "email": "",
                "password": user.password_hash,
                "roles": [user.role] if user.role else [],
            }
            for name, user in users.items()
        }
    }


def gate(home: Home, config: Config) -> Principal:
    """The signed-in user's principal; otherwise draw the sign-in form and end the run."""
    users = auth.load_users(config, home)
    idle_seconds = config.access.session_idle_minutes * 60
    authenticator = stauth.Authenticate(
        _credentials(users),
        auth.COOKIE_NAME,
        auth.cookie_key(home),
        config.access.session_idle_minutes / (24 * 60),
        auto_hash=False,
    )
    was_signed_in = bool(st.session_state.get("authentication_status"))
    try:
        authenticator.login(location="unrendered")  # a valid cookie signs the session in
    except LoginError:  # the cookie names a user who has since been removed
        authenticator.logout(location="unrendered")
    username = st.session_state.get("username")
    now = time.time()
    if st.session_state.get("authentication_status") and username in users:
        principal = auth.principal_of(username, users[username])
        if not was_signed_in:
            audit.record("login", home=home.root, principal=principal, via="cookie")
            st.session_state[_COOKIE_AT] = None  # renew: its age is not known here
        last_seen = st.session_state.get(_LAST_SEEN, now)
        if now - last_seen > idle_seconds:
            audit.record("session_expired", home=home.root, principal=principal)
            authenticator.logout(location="unrendered")
            st.session_state[_NOTICE] = (
                "Your session expired after a period without activity: sign in again."
            )
        elif _account_box(principal):
            audit.record("logout", home=home.root, principal=principal)
            authenticator.logout(location="unrendered")
            st.session_state[_NOTICE] = "You are signed out."
        else:
            st.session_state[_LAST_SEEN] = now
            cookie_at = st.session_state.get(_COOKIE_AT)
            if cookie_at is None or now - cookie_at > idle_seconds / 2:
                authenticator.cookie_controller.set_cookie()
                st.session_state[_COOKIE_AT] = now
            return principal
    elif st.session_state.get("authentication_status"):  # signed in as a removed user
        authenticator.logout(location="unrendered")
    return _form(home, users, authenticator)


def _account_box(principal: Principal) -> bool:
    """Who is signed in, and the sign-out button; True when it was clicked."""
    with st.sidebar:
        role = str(principal.role).replace("_", " ") if principal.role else "no role"
        st.caption(f"Signed in as **{md(principal.username)}** ({role})")
        return st.button("Sign out", key="sign_out", icon=":material/logout:")


def _form(home: Home, users: dict[str, User], authenticator) -> Principal:
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
    name = username.strip().lower()
    if name and password and authenticator.authentication_controller.login(name, password):
        principal = auth.principal_of(name, users[name])
        authenticator.cookie_controller.set_cookie()
        st.session_state[_COOKIE_AT] = st.session_state[_LAST_SEEN] = time.time()
        audit.record("login", home=home.root, principal=principal, via="password")
        st.session_state.pop(_NOTICE, None)
        box.empty()
        _account_box(principal)
        return principal
    # The name is logged only when it is a user's: a password typed in the user field
    # must not end up in the log.
    audit.record(
        "login_failed",
        home=home.root,
        principal=auth.principal_of(name, users[name]) if name in users else None,
        reason="wrong username or password",
    )
    st.session_state["authentication_status"] = None  # the next failure is a new one
    st.error("Wrong username or password.")
    st.stop()
