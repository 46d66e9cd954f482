"""Secrets in apprise URLs never reach logs, errors or the CLI."""

from __future__ import annotations

import pytest

from alerts.redact import redact_text, redact_url, url_secrets

CASES = [
    # (url, secrets that must disappear, parts that should stay readable)
    (
        "mailto://desk:hunter2pass@smtp.example.org:587?from=a@example.org",
        ["hunter2pass"],
        ["smtp.example.org:587"],
    ),
    (
        "tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/987654321",
        ["AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"],
        [],
    ),
    (
        "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#general",
        ["TIiajkdnlazkcOXrIdevi7FQ"],
        ["#general"],
    ),
    ("json://127.0.0.1:8080/hook?token=abcd1234&x=1", ["abcd1234"], ["127.0.0.1:8080", "x=1"]),
    ("json://user:pw-secret@hooks.example.org/path", ["pw-secret"], ["hooks.example.org"]),
    (
        "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
        ["XXXXXXXXXXXXXXXXXXXXXXXX"],
        [],
    ),
    (
        "ntfys://tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2@ntfy.sh/alerts",
        ["tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2"],
        ["ntfy.sh"],
    ),
    (
        "discord://123456789012345678/abcDEF-ghi_JKLmnopQRstuVWXyz0123456789",
        ["abcDEF-ghi_JKLmnopQRstuVWXyz0123456789"],
        [],
    ),
    (
        "msteams://team/3b4f0a1c-1111-2222-3333-444455556666/abc/def",
        ["3b4f0a1c-1111-2222-3333-444455556666"],
        [],
    ),
]


@pytest.mark.parametrize(("url", "secrets", "kept"), CASES)
def test_redact_url_hides_secrets(url: str, secrets: list[str], kept: list[str]) -> None:
    shown = redact_url(url)
    for secret in secrets:
        assert secret not in shown
    for part in kept:
        assert part in shown
    assert shown.split("://")[0] == url.split("://")[0]


@pytest.mark.parametrize(("url", "secrets", "kept"), CASES)
def test_redact_text_scrubs_secrets_anywhere(url: str, secrets: list[str], kept: list[str]) -> None:
    text = f"POST to {url} failed; server said: bad credentials {' '.join(secrets)}"
    scrubbed = redact_text(text, [url])
    for secret in secrets:
        assert secret not in scrubbed
    assert set(secrets) <= set(url_secrets(url))


def test_article_links_in_logs_stay_readable() -> None:
    link = "https://www.example.org/news/2024/10/2/kenyan-police-arrive-in-haiti-2024-10-02"
    assert redact_text(f"fetched {link}") == f"fetched {link}"


def test_not_a_url_is_fully_hidden() -> None:
    assert redact_url("just-a-token-no-scheme") == "***"
