"""Scrapy adapter of factwatch: sources in, FetchedPages out to pipeline.process.Processor.

Entry points: `crawler.runner.crawl` (await inside the asyncio reactor) and `crawler.runner.crawl_blocking`
(one-shot CLI). The request flow is declared in `crawler.settings`; what persists between crawls lives in
the store (`pipeline.store.crawl_models`, through `crawler.state`).
"""
