"""The spider (`news.NewsSpider`) and the pure readers it uses: feed, sitemap, listing, detect."""
