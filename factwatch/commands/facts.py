"""`factwatch facts`: each fact's current value and its history, oldest first."""

from __future__ import annotations

import argparse
from typing import Any

from factwatch.commands.common import add_db_arg, add_json_arg, open_store, print_json, print_table


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "facts",
        help="show each fact's current value and history",
        description="Each fact's current value, since when, how many independent "
        "sources state it, and its history of observations.",
    )
    add_db_arg(parser)
    add_json_arg(parser)
    parser.add_argument("--fact", action="append", default=[], help="only this fact (repeatable)")
    parser.add_argument("--history", action="store_true", help="print each fact's history in the table view")
    parser.set_defaults(func=run)


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def collect(store: Any, only: list[str] | None = None) -> list[dict[str, Any]]:
    from sqlmodel import col, select

    from pipeline.store.models import Article, FactObservation, FactState

    out: list[dict[str, Any]] = []
    with store.session() as session:
        states = session.exec(
            select(FactState).order_by(col(FactState.fact), col(FactState.entity_key))
        ).all()
        for state in states:
            if only and state.fact not in only:
                continue
            rows = session.exec(
                select(FactObservation, Article)
                .join(Article, col(Article.id) == col(FactObservation.article_id))
                .where(
                    FactObservation.fact == state.fact,
                    FactObservation.entity_key == state.entity_key,
                    col(FactObservation.active),
                )
                .order_by(col(FactObservation.published), col(Article.url), col(FactObservation.id))
            ).all()
            out.append(
                {
                    "fact": state.fact,
                    "entity": state.entity,
                    "value": state.value,
                    "since": _iso(state.since),
                    "status": state.status,
                    "independent_sources": state.independent_sources,
                    "pending_value": state.pending_value,
                    "history": [
                        {
                            "value": o.value,
                            "published": _iso(o.published),
                            "url": a.url,
                            "publisher": a.publisher,
                            "evidence": o.evidence,
                        }
                        for o, a in rows
                    ],
                }
            )
    return out


def run(args: argparse.Namespace) -> int:
    store = open_store(args)
    try:
        facts = collect(store, args.fact)
    finally:
        store.close()
    if args.json:
        print_json({"facts": facts})
        return 0
    if not facts:
        print("No facts yet: run `factwatch run` or `factwatch replay ARCHIVE` first.")
        return 0
    rows = [
        [
            f["fact"],
            f["entity"] or "",
            f["value"],
            (f["since"] or "")[:10],
            f["status"],
            f["independent_sources"],
            len(f["history"]),
        ]
        for f in facts
    ]
    print_table(["fact", "entity", "value", "since", "status", "sources", "observations"], rows)
    if args.history:
        for f in facts:
            label = f["fact"] + (f" [{f['entity']}]" if f["entity"] else "")
            print(f"\n{label}")
            for h in f["history"]:
                print(
                    f"  {(h['published'] or '')[:10]}  {h['value']!s:<12} {h['publisher'] or ''}  {h['url']}"
                )
                print(f"      “{h['evidence']}”")
    return 0
