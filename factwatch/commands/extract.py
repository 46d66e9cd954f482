"""`factwatch extract FILE...`: cleaned text and facts of pages or texts, one JSON line per input."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from factwatch.commands.common import add_config_arg, load_app_config, print_json
from factwatch.errors import UserError


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "extract",
        help="print the facts of HTML or text files as JSON lines",
        description="Clean each FILE exactly as a crawl would (HTML or plain text, - for stdin) and print "
        "one "
        "JSON line per input with its facts and their evidence sentences.",
    )
    add_config_arg(parser)
    parser.add_argument(
        "--published", metavar="DATE", help="publication date (YYYY-MM-DD or YYYY-MM) when the page lacks one"
    )
    parser.add_argument("--url", help="the page's URL (for metadata and canonical URL)")
    parser.add_argument("files", metavar="FILE", nargs="+")
    parser.set_defaults(func=run)


def parse_date_arg(text: str) -> datetime:
    for fmt in ("%Y-%m-%d", "%Y-%m", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S"):
        try:
            value = datetime.strptime(text, fmt)
        except ValueError:
            continue
        if fmt == "%Y-%m":
            value = value.replace(day=15)  # mid-month: relative dates resolve within the right month
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    raise UserError(f"--published {text!r}: expected a date like 2025-08-21 or 2025-08")


def _read(name: str) -> bytes:
    if name == "-":
        return sys.stdin.buffer.read()
    path = Path(name)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise UserError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise UserError(f"{name}: is a directory") from None
    except OSError as exc:
        raise UserError(f"{name}: cannot read: {exc.strerror}") from None


def _published_text(value: datetime | None, precision: str) -> str | None:
    if value is None:
        return None
    return value.strftime("%Y-%m") if precision == "month" else value.date().isoformat()


def run(args: argparse.Namespace) -> int:
    from pipeline.extract import extract_any

    config = load_app_config(args)
    published_arg = parse_date_arg(args.published) if args.published else None
    engine = config.extraction.build_engine(config.facts)
    for name in args.files:
        if name != "-" and not Path(name).is_file():
            raise UserError(
                f"{name}: no such file" if not Path(name).exists() else f"{name}: not a regular file"
            )
    for name in args.files:
        data = _read(name)
        doc = extract_any(data, args.url)
        text = doc.text if doc else ""
        published = published_arg or (doc.published if doc else None)
        precision = (
            "day"
            if published_arg and len(args.published) > 7
            else ("month" if published_arg else (doc.published_precision if doc else "day"))
        )
        facts = engine.extract(text, published, precision=precision) if text else []
        print_json(
            {
                "file": name,
                "url": args.url or ((doc.url or doc.canonical_url) if doc else None),
                "published": _published_text(published, precision),
                "title": doc.title if doc else None,
                "facts": [o.as_json() for o in facts],
            }
        )
    return 0
