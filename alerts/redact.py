"""Hide the secrets inside apprise URLs before they reach a log line, an error message or the CLI.

Apprise URLs carry credentials in every position: `mailto://user:PASSWORD@host`, `tgram://BOT_TOKEN/chat`,
`slack://TOKEN_A/TOKEN_B/TOKEN_C`, `json://host/path?token=SECRET`. There is no schema-independent way to
know which part is secret, so this errs on the side of hiding: passwords always, user names and path
segments when they look like tokens, query values when the key or the value looks secret.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

MASK = "***"

_SECRET_KEYS = re.compile(
    r"(pass|pwd|secret|token|key|auth|sig|cred|session|bearer|webhook|apikey|access|private|code|hash)",
    re.IGNORECASE,
)
_URL_IN_TEXT = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]{1,20}://[^\s'\"<>]+")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_SLUG = re.compile(r"^[a-z0-9]+(?:[-_.,][a-z0-9]+)+$")
_HOSTNAME = re.compile(
    r"^(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}$|^\d{1,3}(?:\.\d{1,3}){3}$|^localhost$|^\[[0-9a-fA-F:]+\]$"
)


def looks_like_token(part: str, *, strict: bool = True) -> bool:
    """Long mixed strings are credentials far more often than names (chat IDs and channels are short).

    `strict` is for apprise schemes, where the path is made of credentials; plain http(s) URLs in log lines
    are mostly article links, so there only strings that cannot be words or slugs count.
    """
    if not part or _HOSTNAME.match(part):
        return False
    core = part.lstrip("@#+")
    if _UUID.search(core):
        return True
    has_digit = any(c.isdigit() for c in core)
    has_alpha = any(c.isalpha() for c in core)
    if not strict:
        return (
            len(core) >= 20
            and (has_digit or (core.isalpha() and not core.islower()))
            and not _SLUG.match(core)
        )
    if len(core) >= 24:
        return True
    if len(core) >= 8 and has_digit and has_alpha:
        return True
    # long all-digit strings are phone numbers or chat IDs, which are personal too
    return len(core) >= 9 and core.replace("-", "").isdigit()


def _split_authority(authority: str) -> tuple[str | None, str | None, str]:
    userinfo, at, hostport = authority.rpartition("@")
    if not at:
        return None, None, authority
    user, sep, password = userinfo.partition(":")
    return user, (password if sep else None), hostport


@dataclass(frozen=True, slots=True)
class _Parts:
    scheme: str
    user: str | None
    password: str | None
    host: str
    port: str | None
    path: list[str] | None
    query: list[tuple[str, str | None]] | None
    fragment: str | None

    @property
    def strict(self) -> bool:
        return self.scheme.lower() not in ("http", "https")


def _parse(url: str) -> _Parts | None:
    scheme, sep, rest = url.strip().partition("://")
    if not sep:
        return None
    rest, hsep, fragment = rest.partition("#")
    rest, qsep, query = rest.partition("?")
    authority, psep, path = rest.partition("/")
    user, password, hostport = _split_authority(authority)
    host, colon, port = hostport.rpartition(":")
    if not (colon and port.isdigit() and host):
        host, port = hostport, ""
    pairs: list[tuple[str, str | None]] = []
    for pair in query.split("&") if qsep else []:
        key, eq, value = pair.partition("=")
        pairs.append((key, value if eq else None))
    return _Parts(
        scheme,
        user,
        password,
        host,
        port or None,
        path.split("/") if psep else None,
        pairs if qsep else None,
        fragment if hsep else None,
    )


def _secret_value(key: str, value: str | None, strict: bool) -> bool:
    return bool(value) and (bool(_SECRET_KEYS.search(key)) or looks_like_token(value or "", strict=strict))


def redact_url(url: str) -> str:
    """A version of an apprise URL safe to show: scheme, host and harmless parts kept."""
    parts = _parse(url)
    if parts is None:
        return MASK
    strict = parts.strict

    def hide(part: str) -> str:
        return MASK if looks_like_token(part, strict=strict) else part

    out = f"{parts.scheme}://"
    if parts.user is not None:
        user = parts.user
        if looks_like_token(user, strict=strict) or (strict and parts.password is None and len(user) > 6):
            user = MASK
        out += user + (":" + MASK if parts.password is not None else "") + "@"
    out += hide(parts.host) + (f":{parts.port}" if parts.port else "")
    if parts.path is not None:
        out += "/" + "/".join(hide(seg) for seg in parts.path)
    if parts.query is not None:
        query = [
            key if value is None else f"{key}={MASK if _secret_value(key, value, strict) else value}"
            for key, value in parts.query
        ]
        out += "?" + "&".join(query)
    if parts.fragment is not None:
        out += "#" + hide(parts.fragment)
    return out


def url_secrets(url: str) -> list[str]:
    """The substrings of a URL that redact_url hides, so they can be scrubbed from any other text."""
    parts = _parse(url)
    if parts is None:
        return [url] if len(url) >= 4 else []
    strict = parts.strict
    secrets: list[str] = []
    if parts.password:
        secrets.append(parts.password)
    if parts.user and (looks_like_token(parts.user, strict=strict) or (strict and parts.password is None)):
        secrets.append(parts.user)
    candidates = [parts.host, parts.fragment or "", *(parts.path or [])]
    candidates += [piece for c in candidates if ":" in c for piece in c.split(":")]  # bot tokens: id:secret
    secrets.extend(c for c in candidates if looks_like_token(c, strict=strict))
    secrets.extend(v for k, v in parts.query or [] if v and _secret_value(k, v, strict))
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
