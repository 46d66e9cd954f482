"""Hide the secrets inside apprise URLs before they reach a log line, an error message or the CLI.

Apprise URLs carry credentials in every position: `mailto://user:PASSWORD@host`, `tgram://BOT_TOKEN/chat`,
`slack://TOKEN_A/TOKEN_B/TOKEN_C`, `json://host/path?token=SECRET`. There is no schema-independent way to
know which part is secret, so this errs on the side of hiding: passwords always, user names and path
segments when they look like tokens, query values when the key or the value looks secret.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "***"

_SECRET_KEYS = re.compile(
    r"(pass|pwd|secret|token|key|auth|sig|cred|session|bearer|webhook|apikey|access|private|code|hash)",
    re.IGNORECASE,
)
_URL_IN_TEXT = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]{1,20}://[^\s'\"<>]+")
_HOSTNAME = re.compile(r"^(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}$|^\d{1,3}(?:\.\d{1,3}){3}$|^localhost$|^\[[0-9a-fA-F:]+\]$")


def looks_like_token(part: str) -> bool:
    """Long mixed strings are credentials far more often than names (chat IDs and channels are short)."""
    if not part or _HOSTNAME.match(part):
        return False
    core = part.lstrip("@#+")
    has_digit = any(c.isdigit() for c in core)
    has_alpha = any(c.isalpha() for c in core)
    if len(core) >= 24:
        return True
    if len(core) >= 10 and has_digit and has_alpha:
        return True
    # long all-digit strings are phone numbers or chat IDs, which are personal too
    return len(core) >= 9 and core.replace("-", "").isdigit()


def _split_authority(authority: str) -> tuple[str | None, str | None, str]:
    userinfo, _, hostport = authority.rpartition("@")
    if not _:
        return None, None, authority
    user, sep, password = userinfo.partition(":")
    return user, (password if sep else None), hostport


def _redact_hostport(hostport: str) -> str:
    host, sep, port = hostport.rpartition(":")
    if sep and port.isdigit() and host:
        return (MASK if looks_like_token(host) else host) + ":" + port
    return MASK if looks_like_token(hostport) else hostport


def _redact_query(query: str) -> str:
    out = []
    for pair in query.split("&"):
        key, sep, value = pair.partition("=")
        if sep and value and (_SECRET_KEYS.search(key) or looks_like_token(value)):
            value = MASK
        out.append(f"{key}{sep}{value}")
    return "&".join(out)


def redact_url(url: str) -> str:
    """A version of an apprise URL safe to show: scheme, host and harmless parts kept."""
    scheme, sep, rest = url.strip().partition("://")
    if not sep:
        return MASK
    rest, hsep, fragment = rest.partition("#")
    rest, qsep, query = rest.partition("?")
    authority, psep, path = rest.partition("/")
    user, password, hostport = _split_authority(authority)
    userinfo = ""
    if user is not None:
        shown_user = MASK if (looks_like_token(user) or password is None and len(user) > 6) else user
        userinfo = shown_user + (":" + MASK if password is not None else "") + "@"
    segments = [MASK if looks_like_token(seg) else seg for seg in path.split("/")] if psep else []
    redacted = f"{scheme}://{userinfo}{_redact_hostport(hostport)}"
    if psep:
        redacted += "/" + "/".join(segments)
    if qsep:
        redacted += "?" + _redact_query(query)
    if hsep:
        redacted += "#" + (MASK if looks_like_token(fragment) else fragment)
    return redacted


def url_secrets(url: str) -> list[str]:
    """The substrings of a URL that redact_url hides, so they can be scrubbed from any other text."""
    scheme, sep, rest = url.strip().partition("://")
    if not sep:
        return [url] if url else []
    secrets: list[str] = []
    rest, _, fragment = rest.partition("#")
    rest, _, query = rest.partition("?")
    authority, _, path = rest.partition("/")
    user, password, hostport = _split_authority(authority)
    if password:
        secrets.append(password)
    if user and looks_like_token(user):
        secrets.append(user)
    host = hostport.rpartition(":")[0] if hostport.rpartition(":")[2].isdigit() else hostport
    secrets.extend(part for part in (host, hostport, fragment) if looks_like_token(part))
    secrets.extend(seg for seg in path.split("/") if looks_like_token(seg))
    for pair in query.split("&"):
        key, sep, value = pair.partition("=")
        if sep and value and (_SECRET_KEYS.search(key) or looks_like_token(value)):
            secrets.append(value)
    # short secrets (a 3-letter password) would blank out ordinary words; the URL form still hides them
    return sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)


def redact_text(text: str, urls: Iterable[str] = ()) -> str:
    """Scrub every URL in `text`, and every secret of the given URLs wherever it appears.

    Apprise and the libraries under it put URLs and credentials into exception messages; everything that
    goes to a log or into `Alert.last_error` passes through here first.
    """
    for url in urls:
        if url:
            text = text.replace(url, redact_url(url))
    text = _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)
    for url in urls:
        for secret in url_secrets(url):
            text = text.replace(secret, MASK)
    return text
