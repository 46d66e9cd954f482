"""The `factwatch` command: one parser, one module per command under factwatch.commands.

Each command module offers `add_parser(subparsers)` and sets `func` to a handler `run(args) -> int`.
User errors (bad config, bad database URL, bad arguments) end with one message and exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from factwatch import __version__
from factwatch.errors import UserError, user_error_types
from factwatch.logs import setup_logging

logger = logging.getLogger("factwatch")

# Order is the order of `factwatch --help`.
COMMANDS = ("extract", "replay", "run", "daemon", "facts", "alerts", "sources", "status")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(2, f"factwatch: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="factwatch",
        description="Watch news coverage of a topic and say, with evidence, when a key fact changes.",
    )
    parser.add_argument("--version", action="version", version=f"factwatch {__version__}")
    parser.add_argument("--log-level", help="DEBUG, INFO, WARNING or ERROR (env FACTWATCH_LOG_LEVEL)")
    parser.add_argument(
        "--log-format",
        choices=("text", "json"),
        default=None,
        help="log line format (env FACTWATCH_LOG_FORMAT; default text)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"factwatch.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"factwatch.commands.{name}":
                raise
            continue
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        setup_logging(args.log_level, args.log_format)
        return int(args.func(args) or 0)
    except user_error_types() as exc:
        print(f"factwatch: error: {exc}", file=sys.stderr)
        return 2
    except UserError as exc:
        print(f"factwatch: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("factwatch: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug, not a user error: one line, the traceback only when asked for
        logger.debug("unexpected error", exc_info=True)
        print(
            f"factwatch: internal error: {type(exc).__name__}: {exc} "
            "(run with --log-level DEBUG for details)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
