"""Data values inside text Streamlit renders as Markdown: shown as written, never as markup.

`st.markdown`, `st.caption`, alerts, subheaders, widget help and labels all render
Markdown, so a location named `![t](http://host/t.png)` would make every signed-in
browser fetch that address, and a provider id holding a URL would become a link. Every
value that comes from data (location names, provider ids, payer names) or from a user
(usernames, messages quoting them) goes through `md` before it is placed in such text.
"""

from __future__ import annotations

import re

# CommonMark lets any ASCII punctuation be escaped with a backslash, and an escaped
# character is never markup. Escaping `:` and `.` also breaks GFM's bare-URL and `www.`
# autolinks, which are recognised before escapes are resolved only when unbroken.
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


def md(value: object) -> str:
    """`value` as literal text inside Markdown (newlines kept as spaces)."""
    text = " ".join(str(value).split())
    return _PUNCTUATION.sub(r"\\\1", text)
