"""Run crawl scenarios against the loopback site, each in a fresh subprocess.

A Twisted reactor cannot be restarted inside one process, so every scenario (which may crawl several
times, changing the site in between) runs in its own `python -m tests.crawler.harness` child that
installs the asyncio reactor, awaits the scenario coroutine and prints its JSON result.

The Processor is the real pipeline.process.Processor when it can be built, else FakeProcessor (a stand-in
that keeps pages in a list); FACTWATCH_TEST_FAKE_PROCESSOR=1 forces the fake.
"""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
RESULT_MARK = "SCENARIO-RESULT:"
TOPIC_WORDS = ["Haiti", "mission", "Kenya"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FakeOutcome:
    url: str
    status: str
    reason: str = ""
    article_id: int | None = None
    events: int = 0


class FakeProcessor:
    """Stores pages in a list; rejects what the real Processor rejects (status, type, no text, paywall)."""

    def __init__(self) -> None:
        self.pages: list[Any] = []
        self.texts: dict[str, str] = {}
        self._lock = threading.Lock()

    def process_page(self, page: Any) -> FakeOutcome:
        import trafilatura

        from pipeline.urls import normalize_url

        url = page.final_url or page.url
        ctype = next((v for k, v in page.headers.items() if k.lower() == "content-type"), "")
        if page.status != 200:
            return FakeOutcome(url, "rejected", f"HTTP status {page.status}")
        if ctype and not ctype.lower().startswith(("text/html", "application/xhtml")):
            return FakeOutcome(url, "rejected", "not an HTML page")
        text = trafilatura.extract(page.body.decode("utf-8", "replace"), include_comments=False) or ""
        if len(text) < 80:
            paywall = b"subscribe" in page.body.lower()
            return FakeOutcome(url, "rejected", "paywall-only page" if paywall else "no article text")
        key = normalize_url(url)
        with self._lock:
            previous = self.texts.get(key)
            self.pages.append(page)
            self.texts[key] = text
        if previous is None:
            return FakeOutcome(url, "new", article_id=len(self.pages))
        return FakeOutcome(url, "unchanged" if previous == text else "version", article_id=len(self.pages))

    def known_urls(self, urls: Iterable[str]) -> set[str]:
        from pipeline.urls import normalize_url

        with self._lock:
            return {url for url in urls if normalize_url(url) in self.texts}


def make_config(sources: list[Any], *, alerts: dict[str, Any] | None = None, **crawl: Any) -> Any:
    """An AppConfig whose politeness suits a loopback server (no delays, tiny backoff)."""
    from config.models import AppConfig

    settings = {
        "download_delay": 0.0,
        "autothrottle": False,
        "concurrent_per_domain": 8,
        "retry_backoff_seconds": 0.01,
        "retries": 1,
        "timeout_seconds": 5.0,
        "contact_url": "https://factwatch.example/contact",
        **crawl,
    }
    return AppConfig.model_validate(
        {
            "topic": {"name": "haiti-mss", "keywords": TOPIC_WORDS},
            "sources": sources,
            "crawl": settings,
            "alerts": alerts or {},
        }
    )


def make_processor(store: Any, config: Any) -> Any:
    if os.environ.get("FACTWATCH_TEST_FAKE_PROCESSOR") != "1":
        try:
            from pipeline.process import Processor

            return Processor(store, config)
        except Exception as exc:  # the real one is still being written
            logger.info("using FakeProcessor: %s", exc)
    return FakeProcessor()


def run_scenarios(funcs: list[Callable[[Path], Awaitable[Any]]], tmp_path: Path, timeout: float = 180) -> Any:
    """Run each `func(tmp_path / name)` in one child process with the asyncio reactor; results by name.

    One child per test module keeps the fixed cost (interpreter, Scrapy, Processor start) paid once.
    """
    source = inspect.getfile(funcs[0])
    names = [func.__name__ for func in funcs]
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run(
        [sys.executable, "-m", "tests.crawler.harness", source, ",".join(names), str(tmp_path)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith(RESULT_MARK)]
    if proc.returncode != 0 or not lines:
        raise AssertionError(f"scenarios {names} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return json.loads(lines[-1][len(RESULT_MARK) :])


def run_scenario(func: Callable[[Path], Awaitable[Any]], tmp_path: Path, timeout: float = 120) -> Any:
    return run_scenarios([func], tmp_path, timeout)[func.__name__]


def _child(path: str, names: str, tmp: str) -> None:
    from scrapy.utils.defer import deferred_from_coro
    from scrapy.utils.reactor import install_reactor

    install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
    from twisted.internet import reactor as installed

    reactor: Any = installed
    spec = importlib.util.spec_from_file_location("scenario_module", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    outcome: dict[str, Any] = {}

    async def main() -> None:
        results = {}
        try:
            for name in names.split(","):
                workdir = Path(tmp) / name
                workdir.mkdir(parents=True, exist_ok=True)
                results[name] = await getattr(module, name)(workdir)
            outcome["result"] = results
        except BaseException as exc:
            logger.exception("scenario failed")
            outcome["error"] = exc

    deferred = deferred_from_coro(main())
    deferred.addBoth(lambda _: reactor.callLater(0, reactor.stop))
    reactor.run(installSignalHandlers=False)
    if "error" in outcome:
        raise SystemExit(1)
    print(RESULT_MARK + json.dumps(outcome["result"], default=str))


async def in_thread(func: Callable[..., Any], *args: Any) -> Any:
    return await asyncio.to_thread(func, *args)


if __name__ == "__main__":
    logging.basicConfig(level=os.environ.get("FACTWATCH_TEST_LOG", "WARNING"), stream=sys.stderr)
    _child(sys.argv[1], sys.argv[2], sys.argv[3])
