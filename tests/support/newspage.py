"""A realistic news article page of a fictional site, for tests and benchmarks that must meet real weight.

Real article pages are mostly not article: the 35 pages of ``../shared/corpus/html`` have a median of
207 KiB and ~850 elements; per page, a median quarter of the bytes is inline script and a tenth inline
style, the rest markup around ~160 links (navigation, teasers, footer), with ~40 ``<meta>`` tags and ~27
``<script>`` blocks. :func:`news_page_html` renders such a page around the article text it is given: a
heavy ``<head>`` (meta, OpenGraph, Twitter, preloads, JSON-LD, inline CSS and scripts), a header with a
mega-menu, a breaking-news ticker, a cookie dialog, ad slots, the article (headline, standfirst, byline,
figure, paragraphs with an "Also read:" teaser and an ad slot between them, share bar, tags, author box),
related stories, a most-read list, a newsletter box, comments and a large footer, all in the nested,
utility-classed markup that front-end frameworks leave.

Everything is deterministic. The site-wide parts (menu, footer, CSS, script bundles, legal text) depend on
the site name only, as on a real site; the per-page boilerplate (ticker, related and most-read titles,
comments, author, tags, ad ids, data layer) varies with ``seed``, so near-duplicate detection sees distinct
pages that share their boilerplate. The article text depends only on the arguments, never on ``seed``.

``size_kb`` (KiB of UTF-8) sets the page weight: link lists and utility classes grow a little with it and
inline script, style and JSON blocks take the rest, the way real pages are heavy. From about 70 KiB up a
page lands within 1% of it; below that it keeps its structural minimum (55-70 KiB for nine paragraphs).
:func:`page_boilerplate` returns the boilerplate strings a page carries, so tests can check that
extraction drops them.
"""

from __future__ import annotations

import html
import json
import random
import re
import zlib
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from urllib.parse import urlsplit

DEFAULT_SIZE_KB = 207
"""Median size of the 35 real pages in ../shared/corpus/html (KiB, decompressed)."""

# -- word pools (our own) ---------------------------------------------------------------------------------

_SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "World",
        (
            "Africa",
            "East Africa",
            "West Africa",
            "Americas",
            "Caribbean",
            "Asia Pacific",
            "Europe",
            "Middle East",
            "South Asia",
            "Oceania",
            "United Nations",
        ),
    ),
    (
        "Politics",
        (
            "Parliament",
            "Elections",
            "Cabinet Watch",
            "County Government",
            "Diplomacy",
            "Policy Explained",
            "Polls",
            "Courts and Justice",
            "Security and Defence",
        ),
    ),
    (
        "Business",
        (
            "Markets",
            "Economy",
            "Companies",
            "Banking",
            "Energy",
            "Agribusiness",
            "Trade and Shipping",
            "Personal Finance",
            "Property",
            "Startups",
        ),
    ),
    (
        "Technology",
        ("Gadgets", "Telecoms", "Cybersecurity", "Artificial Intelligence", "Digital Money", "Reviews"),
    ),
    ("Science", ("Space", "Environment", "Wildlife", "Research Notes", "Oceans")),
    ("Health", ("Public Health", "Wellbeing", "Nutrition", "Mental Health", "Medical Research")),
    ("Climate", ("Drought Watch", "Floods", "Green Energy", "Conservation", "Climate Finance")),
    (
        "Sport",
        ("Football", "Athletics", "Rugby", "Cricket", "Basketball", "Boxing", "Motorsport", "Results"),
    ),
    ("Culture", ("Books", "Music", "Film and TV", "Art and Design", "Food and Drink", "Fashion")),
    ("Opinion", ("Editorials", "Columnists", "Letters", "Cartoons", "Guest Essays")),
    ("Travel", ("Destinations", "Safari", "City Guides", "Travel Tips")),
    ("Lifestyle", ("Family", "Relationships", "Homes and Gardens", "Motoring", "Puzzles")),
    ("Multimedia", ("Video", "Podcasts", "Photo Galleries", "Live Coverage", "Graphics")),
    ("Special Reports", ("Investigations", "Data Desk", "Fact Check", "Long Reads")),
)
_REGIONS = (
    "Coastal",
    "Northern",
    "Lakeside",
    "Highlands",
    "Riverside",
    "Capital",
    "Southern",
    "Western",
    "Valley",
    "Eastern",
    "Island",
    "Border",
)
_TOWNS = (
    "Ashford Bay",
    "Kelmore",
    "Redcliff",
    "Mawensi",
    "Port Ellery",
    "Tarnhill",
    "Oxbridge Flats",
    "Sandhaven",
    "Lindenport",
    "Kiboko Springs",
    "Marrowgate",
    "Saltmarsh",
    "Fennick",
    "Daleview",
    "Ostrava Point",
    "Greywater",
    "Nyali Heights",
    "Corran",
    "Beacon Hill",
    "Hollins Cross",
)
_CORPORATE = (
    "About us",
    "Contact the newsroom",
    "Careers",
    "Advertise with us",
    "Terms of use",
    "Privacy policy",
    "Cookie settings",
    "Accessibility",
    "Corrections",
    "Editorial standards",
    "Complaints",
    "RSS feeds",
    "Archive",
    "Sitemap",
    "Mobile apps",
    "E-paper edition",
    "Subscriptions",
    "Help centre",
    "Syndication",
    "Events",
    "Newsletters",
    "Send us a tip",
    "Media kit",
    "Our journalists",
)
_HEAD_SUBJECTS = (
    "Harbour authority",
    "Farmers' union",
    "Regional assembly",
    "Central bank",
    "City council",
    "Teachers' federation",
    "Rail operator",
    "Health ministry",
    "Fishing cooperatives",
    "Tourism board",
    "Water utility",
    "Transport regulator",
    "Supreme court",
    "Opposition bloc",
    "Energy regulator",
    "University senate",
    "Customs agency",
    "Matatu owners",
)
_HEAD_ACTIONS = (
    "weighs",
    "rejects",
    "approves",
    "pauses",
    "defends",
    "questions",
    "unveils",
    "scraps",
    "revives",
    "delays",
    "backs",
    "probes",
)
_HEAD_OBJECTS = (
    "new levy on imported rice",
    "plan for a second runway",
    "cuts to school meals",
    "ferry timetable overhaul",
    "pension reform bill",
    "ban on night fishing",
    "stadium renovation budget",
    "fuel subsidy review",
    "cross-border cattle permits",
    "tariff on mobile transfers",
    "lakeside housing scheme",
    "rules for ride-hailing apps",
    "upgrade of rural clinics",
    "tender for water meters",
    "curbs on plastic packaging",
)
_HEAD_TAILS = (
    "after heated debate",
    "as costs climb",
    "amid street protests",
    "before the budget vote",
    "in surprise move",
    "following audit",
    "despite legal challenge",
    "ahead of the rainy season",
    "as deadline looms",
    "after months of talks",
)
_AUTHORS = (
    ("Amara Wekesa", "security and diplomacy across the region"),
    ("Tobias Lindqvist", "regional politics and the courts"),
    ("Nadia Osei-Brandt", "humanitarian affairs and migration"),
    ("Felix Mwangangi", "policing, defence and public safety"),
    ("Ines Carvalho-Reyes", "the Caribbean and Latin America"),
    ("Joseph Kamau Ndung'u", "government, budgets and public spending"),
)
_TAGS = (
    "Security",
    "Policing",
    "Diplomacy",
    "Caribbean",
    "East Africa",
    "United Nations",
    "Humanitarian aid",
    "Foreign policy",
    "Budgets",
    "Human rights",
    "Peacekeeping",
    "Migration",
)
_HANDLES = (
    "riverbend_77",
    "K. Achieng",
    "lowtide_reader",
    "marketwatcher",
    "Old Harbour Hand",
    "njeri.w",
    "Quiet Observer",
    "baobab_shade",
    "T. Okonkwo",
    "pelican_point",
    "civic_minded_22",
    "Ruth from Kelmore",
)
_COMMENT_OPENERS = (
    "Interesting piece, though",
    "I keep reading these reports and",
    "Honestly,",
    "Not convinced by this.",
    "Good reporting as usual, but",
    "Someone please explain why",
    "As somebody who lived there for years,",
    "The numbers look different from what I hear locally:",
    "Fair summary.",
    "Same story every few months and",
)
_COMMENT_BODIES = (
    "nobody ever says who ends up paying for all of this.",
    "the people on the ground deserve a clearer timetable than they are getting.",
    "I would like to see a follow-up in six months once the dust settles.",
    "the officials quoted here have promised the same thing twice already.",
    "the real problem is the roads, which nobody seems willing to fix.",
    "my cousin says the market reopened last week, so things are slowly improving.",
    "this deserves far more attention than the football results get.",
    "the comparison with last year's figures would help readers a lot.",
    "it is hard to judge without hearing from the residents themselves.",
    "let us hope the funding actually arrives this time round.",
)
_CAPTIONS = (
    "Officers wait beside an armoured vehicle outside a police base",
    "Residents queue for water at a distribution point",
    "A convoy moves along the coast road at dawn",
    "Delegates arrive for a meeting at the ministry",
    "Traders reopen their stalls near the central market",
    "A patrol passes a burnt-out bus in the capital",
)
_AGENCIES = ("Wire Images", "Coastline Photo Agency", "Staff photographer", "Pool picture")
_SHARE_LABELS = ("Share", "Facebook", "X", "WhatsApp", "LinkedIn", "Telegram", "Email", "Copy link")
COOKIE_TEXT = (
    "We and our partners use cookies and similar technologies to measure traffic, personalise content "
    "and show you relevant adverts. You can change your choices at any time from the cookie settings "
    "link at the bottom of every page."
)
COOKIE_BUTTONS = ("Accept all cookies", "Reject all", "Manage preferences")
NEWSLETTER_TEXTS = (
    "Sign up for the Morning Brief newsletter",
    "Get the day's top stories in your inbox every weekday morning, before your first coffee.",
    "By signing up, you agree to our terms of use and acknowledge our privacy policy.",
)


# -- the boilerplate a page carries -------------------------------------------------------------------------


@dataclass(frozen=True)
class Comment:
    author: str
    text: str
    likes: int
    minutes_ago: int


@dataclass(frozen=True)
class NewsPageBoilerplate:
    """The visible boilerplate text of one page (site-wide parts and the parts that vary with the seed)."""

    site_name: str
    nav_labels: tuple[str, ...]
    footer_labels: tuple[str, ...]
    ticker: tuple[str, ...]
    related_titles: tuple[str, ...]
    most_read: tuple[str, ...]
    also_read_title: str
    comments: tuple[Comment, ...]
    author: str
    author_bio: str
    tags: tuple[str, ...]
    caption: str
    credit: str
    share_labels: tuple[str, ...] = _SHARE_LABELS
    cookie_text: str = COOKIE_TEXT
    cookie_buttons: tuple[str, ...] = COOKIE_BUTTONS
    newsletter_texts: tuple[str, ...] = NEWSLETTER_TEXTS

    @property
    def also_read_line(self) -> str:
        return f"Also read: {self.also_read_title}"

    @property
    def legal_text(self) -> str:
        return _legal_text(self.site_name)


def _headline(rng: random.Random) -> str:
    return (
        f"{rng.choice(_HEAD_SUBJECTS)} {rng.choice(_HEAD_ACTIONS)} {rng.choice(_HEAD_OBJECTS)} "
        f"{rng.choice(_HEAD_TAILS)}"
    )


def _headlines(rng: random.Random, count: int, avoid: set[str]) -> list[str]:
    out: list[str] = []
    while len(out) < count:
        title = _headline(rng)
        if title not in avoid:
            avoid.add(title)
            out.append(title)
    return out


def _link_counts(size_kb: float) -> tuple[int, int]:
    """Mega-menu and footer link counts: ~130 and ~85 at the default size, growing slowly with weight."""
    menu = max(60, min(400, round(60 + 0.35 * size_kb)))
    footer = max(40, min(300, round(40 + 0.22 * size_kb)))
    return menu, footer


@lru_cache(maxsize=32)
def _menu(menu_links: int) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Sections with their sub-links, topped up with regional desks until `menu_links` labels exist."""
    sections = [(name, list(subs)) for name, subs in _SECTIONS]
    total = sum(1 + len(subs) for _, subs in sections)
    index = 0
    while total < menu_links:
        name, subs = sections[index % len(sections)]
        region = _REGIONS[(index // len(sections)) % len(_REGIONS)]
        label = f"{region} {name}" if index < len(sections) * len(_REGIONS) else f"{name} Desk {index}"
        subs.append(label)
        total += 1
        index += 1
    while total > menu_links and any(len(subs) > 2 for _, subs in sections):
        longest = max(sections, key=lambda item: len(item[1]))
        longest[1].pop()
        total -= 1
    return tuple((name, tuple(subs)) for name, subs in sections)


@lru_cache(maxsize=32)
def _footer_labels(footer_links: int) -> tuple[str, ...]:
    labels = list(_CORPORATE)
    topics = [sub for _, subs in _SECTIONS for sub in subs]
    extra = [f"{town} edition" for town in _TOWNS] + [f"Topic: {topic}" for topic in topics]
    index = 0
    while len(labels) < footer_links:
        labels.append(extra[index] if index < len(extra) else f"Archive {2000 + index - len(extra)}")
        index += 1
    return tuple(labels[:footer_links])


def page_boilerplate(
    *, site_name: str = "Loopback News", seed: int = 0, size_kb: float = DEFAULT_SIZE_KB
) -> NewsPageBoilerplate:
    """The boilerplate strings of the page rendered with these arguments."""
    rng = random.Random(f"{site_name}|{seed}")
    menu_links, footer_links = _link_counts(size_kb)
    menu = _menu(menu_links)
    seen: set[str] = set()
    ticker = _headlines(rng, 5, seen)
    related = _headlines(rng, 8, seen)
    most_read = _headlines(rng, 10, seen)
    also_read = _headlines(rng, 1, seen)[0]
    comments = tuple(
        Comment(
            author=handle,
            text=f"{rng.choice(_COMMENT_OPENERS)} {rng.choice(_COMMENT_BODIES)}",
            likes=rng.randint(0, 140),
            minutes_ago=rng.randint(3, 600),
        )
        for handle in rng.sample(_HANDLES, rng.randint(3, 5))
    )
    author, beat = rng.choice(_AUTHORS)
    return NewsPageBoilerplate(
        site_name=site_name,
        nav_labels=tuple(label for name, subs in menu for label in (name, *subs)),
        footer_labels=_footer_labels(footer_links),
        ticker=tuple(ticker),
        related_titles=tuple(related),
        most_read=tuple(most_read),
        also_read_title=also_read,
        comments=comments,
        author=author,
        author_bio=f"{author} is a senior correspondent for {site_name}, covering {beat}.",
        tags=tuple(rng.sample(_TAGS, 5)),
        caption=rng.choice(_CAPTIONS),
        credit=rng.choice(_AGENCIES),
    )


# -- filler: inline script, style and JSON drawn from site-wide pools ---------------------------------------

_IDENT = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_$"
_PROPS = (
    "dataset",
    "classList",
    "offsetTop",
    "clientHeight",
    "scrollY",
    "innerWidth",
    "readyState",
    "visibilityState",
    "firstElementChild",
    "parentNode",
    "textContent",
    "location",
)
_METHODS = (
    "querySelectorAll",
    "querySelector",
    "getAttribute",
    "setAttribute",
    "addEventListener",
    "removeEventListener",
    "insertAdjacentHTML",
    "appendChild",
    "closest",
    "matches",
    "dispatchEvent",
    "getBoundingClientRect",
)
_EVENTS = (
    "click",
    "scroll",
    "resize",
    "visibilitychange",
    "DOMContentLoaded",
    "consent:ready",
    "ad:rendered",
    "paywall:check",
    "video:play",
    "nav:open",
)
_SELECTORS = (
    "[data-ad-slot]",
    ".site-nav__item",
    ".ticker__item",
    "#comments",
    ".share-bar__link",
    "[data-track]",
    ".teaser-card",
    ".nl-signup form",
    "img[loading=lazy]",
    ".article-body p",
    "[data-consent]",
    ".most-read__list",
)
_KEYS = (
    "fw_uid",
    "fw_session",
    "consentV2",
    "adRefresh",
    "pvCount",
    "abBucket",
    "nlDismissed",
    "lastSection",
    "scrollDepth",
    "videoAutoplay",
)
_BLOCKS = (
    "site-header",
    "site-nav",
    "mega-menu",
    "ticker",
    "article",
    "article-body",
    "byline",
    "share-bar",
    "teaser-card",
    "most-read",
    "nl-signup",
    "comments",
    "site-footer",
    "ad-slot",
    "author-box",
    "tag-list",
    "consent",
    "figure",
    "btn",
    "icon",
)
_ELEMS = ("inner", "title", "link", "label", "media", "meta", "list", "item", "icon", "body", "cta", "badge")
_MODS = ("active", "open", "large", "compact", "dark", "sticky", "hidden", "primary", "lead", "live")
_CSS_PROPS = (
    "display:flex",
    "display:grid",
    "display:none",
    "align-items:center",
    "justify-content:space-between",
    "gap:{n}px",
    "margin:0 auto",
    "margin-top:{n}px",
    "padding:{n}px {m}px",
    "font-size:{f}rem",
    "line-height:1.{n}",
    "font-weight:{w}00",
    "color:#{hex}",
    "background:#{hex}",
    "border-bottom:1px solid #{hex}",
    "border-radius:{m}px",
    "max-width:{w}{n}px",
    "position:relative",
    "position:absolute",
    "top:0",
    "left:0",
    "z-index:{n}",
    "overflow:hidden",
    "text-overflow:ellipsis",
    "white-space:nowrap",
    "transition:opacity .{n}s ease",
    "grid-template-columns:repeat({m},minmax(0,1fr))",
    "font-family:var(--font-{fam})",
    "letter-spacing:.0{m}em",
    "text-transform:uppercase",
)


def _name(rng: random.Random) -> str:
    return "".join(rng.choice(_IDENT) for _ in range(rng.randint(1, 3)))


def _js_unit(rng: random.Random) -> str:
    a, b, c, d, f = (_name(rng) for _ in range(5))
    kind = rng.randrange(6)
    if kind == 0:
        return (
            f"function {f}({a},{b}){{if(!{a}||!{a}.{rng.choice(_PROPS)})return {b};var {c}={a}."
            f'{rng.choice(_METHODS)}("{rng.choice(_SELECTORS)}");return {c}.length?{c}[0].'
            f"{rng.choice(_PROPS)}:{b}}}"
        )
    if kind == 1:
        return (
            f"{f}.prototype.{rng.choice(_METHODS)}=function({a}){{var {b}=this;{b}.state={a};"
            f'{b}.emit("{rng.choice(_EVENTS)}",{{id:{a}.id,t:Date.now(),v:{rng.randint(0, 99999)}}})}};'
        )
    if kind == 2:
        segments = ",".join(f'"{rng.choice(_KEYS)}_{rng.randint(1, 40)}"' for _ in range(rng.randint(2, 6)))
        return (
            f'var {f}={{key:"{rng.choice(_KEYS)}",enabled:{rng.choice(["!0", "!1"])},'
            f"ratio:{rng.random():.3f},segments:[{segments}]}};"
        )
    if kind == 3:
        return (
            f'document.addEventListener("{rng.choice(_EVENTS)}",function({a}){{var {b}={a}.target.closest('
            f'"{rng.choice(_SELECTORS)}");if({b}){{{b}.classList.toggle("is-{rng.choice(_MODS)}");'
            f'window.fwq&&window.fwq.push(["track","{rng.choice(_EVENTS)}",{b}.dataset.track||"'
            f'{rng.choice(_BLOCKS)}"])}}}});'
        )
    if kind == 4:
        exports = ",".join(
            f"{_name(rng)}:function(){{return {_name(rng)}}}" for _ in range(rng.randint(1, 4))
        )
        return (
            f'{rng.randint(1000, 99999)}:function({a},{b},{d}){{"use '
            f'strict";{d}.r({b});{d}.d({b},{{{exports}}});'
            f"var {c}={d}({rng.randint(100, 99999)}),{f}={d}.n({c});}},"
        )
    return (
        f'try{{localStorage.setItem("{rng.choice(_KEYS)}",JSON.stringify({{v:{rng.randint(0, 9999)},'
        f'ts:+new Date,seg:"{rng.choice(_BLOCKS)}"}}))}}catch({a}){{}}'
    )


def _css_unit(rng: random.Random) -> str:
    selector = f".{rng.choice(_BLOCKS)}"
    if rng.random() < 0.7:
        selector += f"__{rng.choice(_ELEMS)}"
    if rng.random() < 0.4:
        selector += f"--{rng.choice(_MODS)}"
    props = ";".join(
        rng.choice(_CSS_PROPS).format(
            n=rng.randint(1, 9),
            m=rng.randint(2, 24),
            f=f"{rng.uniform(0.7, 2.4):.3f}",
            w=rng.randint(3, 9),
            hex=f"{rng.randrange(0x1000000):06x}",
            fam=rng.choice(("serif", "sans", "mono")),
        )
        for _ in range(rng.randint(2, 7))
    )
    rule = f"{selector}{{{props}}}"
    if rng.random() < 0.15:
        return f"@media (min-width:{rng.choice((600, 768, 1024, 1280))}px){{{rule}}}"
    return rule


def _json_unit(rng: random.Random) -> str:
    section, subs = rng.choice(_SECTIONS)
    day = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randint(0, 600_000))
    slug = f"{section.lower().replace(' ', '-')}/{day:%Y/%m/%d}/story-{rng.randint(10000, 999999)}"
    teaser = {
        "id": f"a{rng.randint(100000, 9999999)}",
        "type": rng.choice(("article", "video", "gallery", "live")),
        "headline": _headline(rng),
        "url": f"/{slug}",
        "section": section,
        "subsection": rng.choice(subs),
        "image": {
            "src": f"https://img.cdn.example/{rng.randrange(16**8):08x}/{rng.choice((640, 960, 1280))}.jpg",
            "width": 1280,
            "height": 720,
            "focal": [round(rng.random(), 2), round(rng.random(), 2)],
        },
        "published": day.isoformat().replace("+00:00", "Z"),
        "labels": rng.sample(_TAGS, rng.randint(0, 3)),
        "premium": rng.random() < 0.2,
        "readMinutes": rng.randint(2, 14),
    }
    return json.dumps(teaser, separators=(",", ":"))


class _Pool:
    """An endless, deterministic sequence of units; `take(n)` is a prefix of about n bytes."""

    def __init__(self, make: Callable[[random.Random], str], seed: str, sep: str) -> None:
        self._make = make
        self._rng = random.Random(seed)
        self._sep = sep
        self._units: list[str] = []
        self._ends: list[int] = []  # cumulative length after each unit and its separator

    def take(self, size: int) -> str:
        if size <= 0:
            return ""
        while not self._ends or self._ends[-1] < size:
            unit = self._make(self._rng)
            self._units.append(unit)
            self._ends.append((self._ends[-1] if self._ends else 0) + len(unit) + len(self._sep))
        count = bisect_left(self._ends, size) + 1
        # Stop on whichever unit boundary lands nearer the budget.
        if count > 1 and self._ends[count - 1] - size > size - self._ends[count - 2]:
            count -= 1
        return self._sep.join(self._units[:count])


_POOLS: dict[tuple[str, str], _Pool] = {}
_MAKERS: dict[str, tuple[Callable[[random.Random], str], str]] = {
    "js": (_js_unit, "\n"),
    "css": (_css_unit, "\n"),
    "json": (_json_unit, ","),
}


def _fill(site_name: str, slot: str, size: int) -> str:
    kind = slot.rstrip("0123456789")
    key = (site_name, slot)
    pool = _POOLS.get(key)
    if pool is None:
        make, sep = _MAKERS[kind]
        pool = _POOLS[key] = _Pool(make, f"{site_name}|{slot}", sep)
    return pool.take(size)


# Shares of the filler budget per slot, roughly the corpus median's mix (script > style > JSON state).
_FILL_SHARES = {
    "js0": 0.06,
    "js1": 0.10,
    "js2": 0.16,
    "js3": 0.14,
    "js4": 0.09,
    "css0": 0.14,
    "css1": 0.09,
    "json0": 0.22,
}
_FILL_MARK = re.compile("\x00fill:([a-z]+[0-9])\x00")

# Utility classes as CSS frameworks leave them on every element: most of a real page's markup weight.
_UTILITIES = (
    "flex",
    "inline-flex",
    "grid",
    "block",
    "items-center",
    "items-start",
    "justify-between",
    "gap-1",
    "gap-2",
    "gap-4",
    "p-2",
    "px-3",
    "px-4",
    "py-1",
    "py-2",
    "mt-2",
    "mb-4",
    "mx-auto",
    "w-full",
    "max-w-screen-xl",
    "rounded-md",
    "border-b",
    "border-neutral-200",
    "font-semibold",
    "font-bold",
    "leading-tight",
    "leading-snug",
    "tracking-tight",
    "uppercase",
    "text-sm",
    "text-base",
    "text-lg",
    "text-neutral-700",
    "hover:underline",
    "focus:outline-none",
    "focus-visible:ring-2",
    "md:flex",
    "md:gap-4",
    "lg:grid-cols-3",
    "transition-colors",
    "duration-150",
    "shrink-0",
    "overflow-hidden",
    "truncate",
    "relative",
    "z-10",
    "dark:text-neutral-100",
    "dark:bg-neutral-900",
)
_CLASS_ATTR = re.compile(r'class="([^"]+)"')


@lru_cache(maxsize=8192)
def _with_utilities(classes: str, most: int) -> str:
    """`classes` plus up to `most` utility classes, the same ones wherever the component appears."""
    if most <= 0:
        return f'class="{classes}"'
    rng = random.Random(zlib.crc32(classes.encode()))
    return f'class="{classes} {" ".join(rng.sample(_UTILITIES, rng.randint(most // 2, most)))}"'


# -- rendering ----------------------------------------------------------------------------------------------


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _legal_text(site_name: str) -> str:
    return (
        f"&copy; 2025 {_e(site_name)} Media Group Limited, a company registered in the fictional Republic of "
        "Loopbackia under number 0042-7781. All rights reserved. Material on this site may not be copied, "
        "reframed or redistributed without written permission. The views of columnists and commenters are "
        "their own. Advertising is sold and served by third parties, who may use information about your "
        "visit as described in our privacy policy."
    )


_ICON_PATHS = (
    "M4 4h16v16H4z",
    "M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm1 5h2V5h-2a3 3 0 0 0-3 3v2H8v2h2v7h2v-7h2l1-2h-3V8a1 1 0 0 1 "
    "1-1z",
    "M3 3l18 18M21 3L3 21",
    "M12 3a9 9 0 0 0-7.8 13.5L3 21l4.6-1.2A9 9 0 1 0 12 3zm4.5 12.4c-.2.5-1.1 1-1.6 1-.4.1-.9.1-1.5-.1",
    "M4 4h4v16H4zM10 9h4v2c.6-1.2 2-2 3.5-2 2.5 0 3.5 1.6 3.5 4.2V20h-4v-6c0-1.2-.5-2-1.6-2-1.2 0-1.9.8-1.9 "
    "2",
    "M21 4L3 11l5 2 2 6 3-4 5 4z",
    "M3 5h18v14H3zM3 5l9 7 9-7",
    "M9 9h10v10H9zM5 5h10v2H7v8H5z",
)


def _icon(index: int) -> str:
    return (
        '<svg class="icon" width="20" height="20" viewBox="0 0 24 24" aria-hidden="true" focusable="false">'
        f'<path d="{_ICON_PATHS[index % len(_ICON_PATHS)]}"/></svg>'
    )


def _ad_slot(name: str, unit: str, sizes: str, seed: int, *, label: bool = True) -> str:
    """An ad container as ad managers leave it before rendering, with the inline call that fills it."""
    slot = f"ad-{name}-{seed % 997}"
    inner = '<span class="ad-slot__label">Advertisement</span>' if label else ""
    return (
        f'<div class="ad-wrapper ad-wrapper--{name}"><div class="ad-slot ad-slot--{name}" id="{slot}" '
        f"data-ad-unit=\"/21877/{unit}\" data-ad-sizes='{sizes}' "
        f'data-ad-targeting=\'{{"pos":"{name}","refresh":"30"}}\' '
        f'data-lazy="{"true" if name != "leaderboard" else "false"}" aria-hidden="true">{inner}'
        f'<div class="ad-slot__container" id="{slot}-container"></div></div></div>'
        f"<script>adq.cmd.push(function(){{adq.display('{slot}')}});</script>"
    )


def _head(
    *,
    title: str,
    description: str,
    published: datetime,
    canonical: str,
    site_name: str,
    origin: str,
    bp: NewsPageBoilerplate,
    section: str,
    article_id: str,
    words: int,
) -> str:
    pub, modified = _iso(published), _iso(published + timedelta(minutes=47))
    image = f"https://img.cdn.example/{article_id}/1600x900.jpg"
    meta_names = {
        "description": description,
        "keywords": ", ".join(bp.tags),
        "robots": "index, follow, max-image-preview:large, max-snippet:-1, max-video-preview:-1",
        "googlebot-news": "index, follow",
        "author": bp.author,
        "theme-color": "#0b3954",
        "referrer": "strict-origin-when-cross-origin",
        "format-detection": "telephone=no",
        "application-name": site_name,
        "apple-mobile-web-app-title": site_name,
        "msapplication-TileColor": "#0b3954",
        "twitter:card": "summary_large_image",
        "twitter:site": "@" + _slug(site_name).replace("-", ""),
        "twitter:creator": "@" + _slug(bp.author).replace("-", "_"),
        "twitter:title": title,
        "twitter:description": description,
        "twitter:image": image,
        "twitter:image:alt": bp.caption,
        "parsely-type": "post",
        "parsely-section": section,
        "parsely-pub-date": pub,
        "article-id": article_id,
        "content-tier": "free",
    }
    meta_props = {
        "og:type": "article",
        "og:site_name": site_name,
        "og:locale": "en_GB",
        "og:title": title,
        "og:description": description,
        "og:url": canonical,
        "og:image": image,
        "og:image:width": "1600",
        "og:image:height": "900",
        "og:image:alt": bp.caption,
        "fb:app_id": str(100000000000 + zlib.crc32(site_name.encode()) % 899999999999),
        "article:published_time": pub,
        "article:modified_time": modified,
        "article:section": section,
        "article:author": f"{origin}/authors/{_slug(bp.author)}",
        "article:publisher": f"https://social.example/{_slug(site_name)}",
    }
    metas = [f'<meta name="{k}" content="{_e(v)}">' for k, v in meta_names.items()]
    metas += [f'<meta property="{k}" content="{_e(v)}">' for k, v in meta_props.items()]
    metas += [f'<meta property="article:tag" content="{_e(tag)}">' for tag in bp.tags]
    hosts = ("img.cdn.example", "static.cdn.example", "ads.adnet.example", "metrics.example", "fonts.example")
    links = [f'<link rel="canonical" href="{_e(canonical)}">']
    links += [f'<link rel="amphtml" href="{_e(canonical)}?amp=1">']
    links += [f'<link rel="preconnect" href="https://{host}" crossorigin>' for host in hosts]
    links += [f'<link rel="dns-prefetch" href="https://{host}">' for host in hosts]
    links += [
        f'<link rel="preload" as="font" type="font/woff2" href="https://fonts.example/{face}.woff2" '
        "crossorigin>"
        for face in ("serif-display-700", "sans-text-400", "sans-text-700")
    ]
    links += [
        f'<link rel="preload" as="image" href="{image}" imagesrcset="'
        + ", ".join(f"https://img.cdn.example/{article_id}/{w}.jpg {w}w" for w in (480, 800, 1200, 1600))
        + '" imagesizes="(min-width: 1024px) 720px, 100vw">',
        '<link rel="preload" as="script" href="https://static.cdn.example/js/runtime.8f3a1c.js">',
        '<link rel="modulepreload" href="https://static.cdn.example/js/article.2b7e90.mjs">',
        f'<link rel="alternate" type="application/rss+xml" title="{_e(site_name)}" href="{origin}/rss.xml">',
        f'<link rel="alternate" hreflang="en" href="{_e(canonical)}">',
        f'<link rel="alternate" hreflang="x-default" href="{_e(canonical)}">',
        '<link rel="icon" href="/favicon.ico" sizes="any">',
        '<link rel="icon" href="/icon.svg" type="image/svg+xml">',
    ]
    links += [
        f'<link rel="apple-touch-icon" sizes="{n}x{n}" href="/apple-touch-icon-{n}.png">'
        for n in (120, 152, 180)
    ]
    links.append('<link rel="manifest" href="/site.webmanifest">')
    publisher = {
        "@type": "NewsMediaOrganization",
        "@id": f"{origin}/#publisher",
        "name": site_name,
        "url": origin + "/",
        "logo": {"@type": "ImageObject", "url": f"{origin}/logo-600x60.png", "width": 600, "height": 60},
        "sameAs": [
            f"https://social.example/{_slug(site_name)}",
            f"https://video.example/@{_slug(site_name)}",
        ],
    }
    graph = {
        "@context": "https://schema.org",
        "@graph": [
            {
                "@type": "NewsArticle",
                "@id": f"{canonical}#article",
                "mainEntityOfPage": {"@type": "WebPage", "@id": canonical},
                "headline": title,
                "description": description,
                "datePublished": pub,
                "dateModified": modified,
                "articleSection": section,
                "keywords": list(bp.tags),
                "wordCount": words,
                "inLanguage": "en-GB",
                "isAccessibleForFree": True,
                "image": [f"https://img.cdn.example/{article_id}/{r}.jpg" for r in ("1x1", "4x3", "16x9")],
                "author": [
                    {"@type": "Person", "name": bp.author, "url": f"{origin}/authors/{_slug(bp.author)}"}
                ],
                "publisher": {"@id": f"{origin}/#publisher"},
            },
            publisher,
            {
                "@type": "BreadcrumbList",
                "itemListElement": [
                    {"@type": "ListItem", "position": 1, "name": "Home", "item": origin + "/"},
                    {
                        "@type": "ListItem",
                        "position": 2,
                        "name": section,
                        "item": f"{origin}/{_slug(section)}/",
                    },
                ],
            },
        ],
    }
    jsonld = json.dumps(graph, separators=(",", ":")).replace("</", "<\\/")
    datalayer = {
        "pageType": "article",
        "articleId": article_id,
        "section": section,
        "author": bp.author,
        "publishedAt": pub,
        "wordCount": words,
        "tags": list(bp.tags),
        "paywall": "free",
        "abBucket": f"b{zlib.crc32(article_id.encode()) % 8}",
    }
    scripts = [
        "<script>!function(){var "
        "q=window.__cmpq=window.__cmpq||[];window.__cmp=function(){q.push(arguments)};"
        "window.__cmp('init',{vendorListVersion:212,gdprApplies:!0,cookieDomain:location.hostname})}();"
        "</script>",
        "<script>window.dataLayer=window.dataLayer||[];window.dataLayer.push("
        + json.dumps(datalayer, separators=(",", ":")).replace("</", "<\\/")
        + ");</script>",
        "<script>window.SITE_CONFIG={env:'production',release:'2025.03.4',cdn:'https://static.cdn.example',"
        f"edition:'international',features:{{liveBlogs:!0,comments:!0,newsletterModal:!1}},id:'{article_id}'}};"
        "\x00fill:js0\x00</script>",
        "<script>window.adq=window.adq||{cmd:[]};adq.cmd.push(function(){adq.pubads().setTargeting('section',"
        f"'{_slug(section)}').setTargeting('article','{article_id}');adq.enableLazyLoad({{fetchMarginPercent:200,"
        "renderMarginPercent:100}});adq.enableServices()});</script>",
        '<script async src="https://ads.adnet.example/tag/js/gpt.js"></script>',
        '<script async src="https://metrics.example/collect.js" data-site="fw-2291"></script>',
        '<script defer src="https://static.cdn.example/js/runtime.8f3a1c.js"></script>',
        '<script type="module" src="https://static.cdn.example/js/article.2b7e90.mjs"></script>',
        "<script>(function(){try{var t=localStorage.getItem('fw_theme');if(t)document.documentElement."
        "dataset.theme=t}catch(e){}document.documentElement.classList.replace('no-js','js')})();</script>",
        f'<script type="application/ld+json">{jsonld}</script>',
    ]
    return (
        "<head>\n"
        '<meta charset="utf-8">\n<meta name="viewport" content="width=device-width, initial-scale=1, '
        'viewport-fit=cover">\n<meta http-equiv="X-UA-Compatible" content="IE=edge">\n'
        f"<title>{_e(title)} | {_e(site_name)}</title>\n"
        + "\n".join(metas)
        + "\n"
        + "\n".join(links)
        + "\n<style>:root{--font-serif:Georgia,serif;--font-sans:system-ui,sans-serif;--font-mono:monospace}"
        "\n\x00fill:css0\x00</style>\n" + "\n".join(scripts) + "\n</head>"
    )


def _header(site_name: str, bp: NewsPageBoilerplate, menu_links: int, seed: int) -> str:
    groups = []
    for number, (name, subs) in enumerate(_menu(menu_links)):
        columns = [subs[i : i + 6] for i in range(0, len(subs), 6)]
        cols = "".join(
            '<div class="mega-menu__col"><ul class="mega-menu__list">'
            + "".join(
                f'<li class="mega-menu__item"><a class="mega-menu__link" href="/{_slug(name)}/{_slug(sub)}/" '
                f'data-track="nav|{_slug(sub)}">{_e(sub)}</a></li>'
                for sub in column
            )
            + "</ul></div>"
            for column in columns
        )
        groups.append(
            f'<li class="site-nav__item" data-menu="{number}"><a class="site-nav__link" '
            f'href="/{_slug(name)}/" '
            f'aria-haspopup="true" aria-expanded="false">{_e(name)}</a>'
            f'<div class="mega-menu" id="mega-menu-{number}" hidden><div class="mega-menu__inner">'
            f'<div class="mega-menu__cols">{cols}</div></div></div></li>'
        )
    ticker = "".join(
        '<li class="ticker__item"><div class="ticker__entry"><a '
        f'href="/live/{_slug(t)}-{seed % 9973}">{_e(t)}'
        f'</a><span class="ticker__age">{3 + 7 * i} min ago</span></div></li>'
        for i, t in enumerate(bp.ticker)
    )
    return (
        '<a class="skip-link" href="#main-content">Skip to content</a>\n'
        + _ad_slot("leaderboard", "news/article/top", "[[728,90],[970,250]]", seed, label=False)
        + '\n<header class="site-header" role="banner"><div class="site-header__bar"><div class="container">'
        '<div class="site-header__row"><div class="site-header__left"><button '
        'class="site-header__menu-toggle" '
        f'aria-controls="site-nav" aria-expanded="false">{_icon(2)}<span class="visually-hidden">Menu</span>'
        '</button></div><div class="site-header__centre">'
        f'<a class="site-header__logo" href="/" aria-label="{_e(site_name)} home">'
        '<svg width="180" height="32" viewBox="0 0 180 32" role="img"><title>'
        f'{_e(site_name)}</title><path d="M0 4h8v24H0zM12 4h20v4H20v6h10v4H20v10h-8z"/></svg></a></div>'
        '<div class="site-header__right"><div class="site-header__actions">'
        '<a class="btn btn--primary" href="/subscribe?ref=header">Subscribe</a>'
        '<a class="btn" href="/account/login">Sign in</a><button class="site-header__search" '
        'aria-label="Search">'
        f"{_icon(0)}</button></div></div></div></div></div>\n"
        '<nav class="site-nav" id="site-nav" aria-label="Sections"><div class="container"><div '
        'class="site-nav__wrap">'
        f'<ul class="site-nav__list">{"".join(groups)}</ul></div></div></nav>\n'
        '<div class="ticker" role="region" aria-label="Breaking news"><div class="container"><div '
        'class="ticker__inner">'
        '<span class="ticker__label">Breaking</span><div class="ticker__viewport">'
        f'<ul class="ticker__list">{ticker}</ul></div></div></div></div>\n</header>'
    )


def _cookie_dialog() -> str:
    buttons = "".join(
        f'<button class="privacy-prompt__btn privacy-prompt__btn--{_slug(b)}" '
        f'data-consent="{_slug(b)}">{_e(b)}'
        "</button>"
        for b in COOKIE_BUTTONS
    )
    return (
        '<div class="privacy-prompt" role="dialog" aria-modal="true" aria-labelledby="privacy-title" '
        'data-nosnippet><div class="privacy-prompt__box"><div class="privacy-prompt__content">'
        '<h2 id="privacy-title">Your privacy choices</h2>'
        f'<p class="privacy-prompt__text">{_e(COOKIE_TEXT)}</p></div><div class="privacy-prompt__actions">'
        f'{buttons}</div><a class="privacy-prompt__policy" href="/cookie-policy">Cookie policy</a></div>'
        "</div>"
    )


def _linked(text: str, index: int) -> str:
    """A paragraph's markup; every third links a few words, as in-text links to other stories do."""
    words = text.split(" ")
    if index % 3 != 1 or len(words) < 12:
        return _e(text)
    start = 4 + index % 5
    anchor = " ".join(words[start : start + 3])
    return (
        _e(" ".join(words[:start]))
        + f' <a href="/topics/{_slug(anchor)}" data-link-type="internal">{_e(anchor)}</a> '
        + _e(" ".join(words[start + 3 :]))
    )


def _article(
    *,
    title: str,
    standfirst: str,
    paragraphs: Sequence[str],
    published: datetime,
    section: str,
    bp: NewsPageBoilerplate,
    seed: int,
) -> str:
    pub = _iso(published)
    also_read = (
        '<div class="article-body__block" data-component="text-block"><p>'
        f'<strong>Also read:</strong> <a href="/{_slug(section)}/{_slug(bp.also_read_title)}" '
        f'data-track="inline-related">{_e(bp.also_read_title)}</a></p></div>'
    )
    body: list[str] = []
    also_at = 2 if len(paragraphs) >= 4 else len(paragraphs)
    ad_at = 5 if len(paragraphs) >= 7 else -1
    for index, text in enumerate(paragraphs):
        if index == also_at:
            body.append(also_read)
        if index == ad_at:
            body.append(_ad_slot("inarticle", "news/article/mid", "[[300,250],[336,280],'fluid']", seed))
        body.append(
            f'<div class="article-body__block" data-component="text-block"><p>{_linked(text, index)}</p>'
            "</div>"
        )
    if also_at == len(paragraphs):
        body.append(also_read)
    share = "".join(
        f'<li class="share-bar__item"><a class="share-bar__link share-bar__link--{_slug(label)}" '
        f'href="#share-{_slug(label)}" rel="noopener" data-track="share|{_slug(label)}">{_icon(i)}'
        f'<span class="share-bar__label">{_e(label)}</span></a></li>'
        for i, label in enumerate(bp.share_labels)
    )
    tags = "".join(
        f'<li><a class="tag" href="/topics/{_slug(t)}" rel="tag">{_e(t)}</a></li>' for t in bp.tags
    )
    author_slug = _slug(bp.author)
    words = sum(len(p.split()) for p in paragraphs)
    srcset = ", ".join(f"https://img.cdn.example/a{seed}/{w}.webp {w}w" for w in (480, 800, 1200, 1600))
    return (
        f'<article class="article" data-article-id="a{seed}" itemscope '
        'itemtype="https://schema.org/NewsArticle">'
        '<header class="article__header"><div class="article__header-inner"><div class="article__kicker-row">'
        f'<a class="article__kicker" href="/{_slug(section)}/">{_e(section)}</a></div>'
        f'<h1 class="article__headline" itemprop="headline">{_e(title)}</h1>'
        f'<div class="article__standfirst-wrap"><p class="article__standfirst" itemprop="description">'
        f"{_e(standfirst)}</p></div>"
        '<div class="byline"><div class="byline__inner"><div class="byline__avatar"><img '
        f'src="https://img.cdn.example/authors/{author_slug}-96.jpg" width="48" height="48" alt="" '
        'loading="lazy"></div><div class="byline__text"><div class="byline__names">'
        f'<span class="byline__name">By <a href="/authors/{author_slug}" rel="author">{_e(bp.author)}</a>'
        "</span>"
        '</div><div class="byline__meta">'
        f'<time class="byline__date" datetime="{pub}" itemprop="datePublished">{published:%d %B %Y, %H:%M} '
        "GMT"
        f'</time><span class="byline__read">{max(1, words // 220)} min read</span></div></div></div></div>'
        "</div></header>"
        '<div class="article__media"><figure class="figure figure--lead"><div class="figure__frame"><picture>'
        f'<source type="image/webp" srcset="{srcset}"><img class="figure__img" '
        f'src="https://img.cdn.example/a{seed}/800.jpg" width="800" height="450" alt="{_e(bp.caption)}" '
        'fetchpriority="high"></picture></div><figcaption class="figure__caption">'
        f'<span class="figure__text">{_e(bp.caption)}.</span> '
        f'<span class="figure__credit">Photo: {_e(bp.credit)}</span></figcaption></figure></div>'
        '<div class="article__content"><div class="article-body" itemprop="articleBody">\n'
        + "\n".join(body)
        + "\n</div></div>"
        '<div class="article__footer"><div class="share-bar" aria-label="Share this article">'
        f'<ul class="share-bar__list">{share}</ul></div>'
        f'<div class="tag-list"><h2 class="tag-list__title">Topics</h2><ul class="tag-list__items">{tags}'
        "</ul></div>"
        '<div class="author-box"><div class="author-box__media"><img '
        f'src="https://img.cdn.example/authors/{author_slug}-160.jpg" width="80" height="80" alt="" '
        f'loading="lazy"></div><div class="author-box__body"><p class="author-box__bio">{_e(bp.author_bio)}'
        "</p>"
        f'<a class="author-box__more" href="/authors/{author_slug}">More from {_e(bp.author)}</a></div></div>'
        "</div></article>"
    )


def _teaser(title: str, section: str, seed: int, index: int) -> str:
    href = f"/{_slug(section)}/{_slug(title)}-{(seed * 31 + index) % 100000}"
    return (
        f'<div class="teaser-card" data-track="related|{index}"><div class="teaser-card__inner">'
        f'<div class="teaser-card__media"><a href="{href}" tabindex="-1" aria-hidden="true"><picture>'
        f'<img src="https://img.cdn.example/t/{(seed * 7 + index) % 100000}/320.jpg" width="320" '
        'height="180" '
        'alt="" loading="lazy"></picture></a></div><div class="teaser-card__body">'
        f'<h3 class="teaser-card__title"><a class="teaser-card__link" href="{href}">{_e(title)}</a></h3>'
        f'<div class="teaser-card__meta"><span class="teaser-card__section">{_e(section)}</span>'
        f'<span class="teaser-card__age">{2 + index * 3} hours ago</span></div></div></div></div>'
    )


def _related(bp: NewsPageBoilerplate, section: str, seed: int) -> str:
    cards = "".join(_teaser(t, section, seed, i) for i, t in enumerate(bp.related_titles))
    return (
        '<section class="related-stories" aria-labelledby="related-h"><div class="section-heading">'
        f'<h2 id="related-h">More on this story</h2></div><div class="related-stories__grid">{cards}</div>'
        "</section>"
    )


def _newsletter() -> str:
    heading, pitch, legal = NEWSLETTER_TEXTS
    return (
        '<div class="nl-signup" data-newsletter="morning-brief"><div class="nl-signup__inner">'
        f'<div class="nl-signup__copy"><h2 class="nl-signup__title">{_e(heading)}</h2>'
        f'<p class="nl-signup__pitch">{_e(pitch)}</p></div>'
        '<form class="nl-signup__form" action="/newsletters/subscribe" method="post">'
        '<label for="nl-email" class="visually-hidden">Email address</label><input id="nl-email" '
        'type="email" '
        'name="email" placeholder="Your email address" required><button type="submit">Sign up</button></form>'
        f'<p class="nl-signup__legal">{_e(legal)}</p></div></div>'
    )


def _comments(bp: NewsPageBoilerplate, seed: int, published: datetime) -> str:
    items = "".join(
        f'<li class="comment" id="comment-{seed}-{i}"><div class="comment__inner"><div class="comment__head">'
        f'<div class="comment__avatar" aria-hidden="true">{_e(c.author[:1].upper())}</div>'
        f'<div class="comment__who"><span class="comment__author">{_e(c.author)}</span><time '
        'class="comment__time" '
        f'datetime="{_iso(published + timedelta(minutes=c.minutes_ago))}">{c.minutes_ago // 60}h ago</time>'
        "</div>"
        f'</div><div class="comment__body"><p class="comment__text">{_e(c.text)}</p></div>'
        '<div class="comment__actions"><button class="comment__reply">Reply</button><button '
        'class="comment__like" '
        f'aria-label="Like">{_icon(7)}<span>{c.likes}</span></button></div></div></li>'
        for i, c in enumerate(bp.comments)
    )
    return (
        f'<section id="comments" class="comments" data-count="{len(bp.comments)}"><div '
        'class="comments__header">'
        f'<h2 class="comments__title">Comments ({len(bp.comments)})</h2></div>'
        f'<ol class="comments__list">{items}</ol><button class="comments__more">Show more comments</button>'
        "</section>"
    )


def _most_read(bp: NewsPageBoilerplate, seed: int) -> str:
    items = "".join(
        f'<li class="most-read__item"><div class="most-read__entry"><span class="most-read__rank">{i + 1}'
        "</span>"
        f'<a href="/news/{_slug(t)}" data-track="most-read|{i + 1}">{_e(t)}</a></div></li>'
        for i, t in enumerate(bp.most_read)
    )
    return (
        '<aside class="most-read" aria-labelledby="most-read-h"><div class="section-heading">'
        f'<h2 id="most-read-h">Most read</h2></div><ol class="most-read__list">{items}</ol></aside>'
        + _ad_slot("sidebar", "news/article/side", "[[300,250],[300,600]]", seed)
    )


def _footer(site_name: str, bp: NewsPageBoilerplate) -> str:
    labels = bp.footer_labels
    columns = []
    per_column = max(1, -(-len(labels) // 6))
    headings = ("The company", "Help", "Editions", "Topics", "More topics", "Archive")
    for number, start in enumerate(range(0, len(labels), per_column)):
        chunk = labels[start : start + per_column]
        items = "".join(
            f'<li><a class="site-footer__link" href="/{_slug(label)}">{_e(label)}</a></li>' for label in chunk
        )
        columns.append(
            f'<div class="site-footer__col"><h3 class="site-footer__heading">{headings[number % 6]}</h3>'
            f"<ul>{items}</ul></div>"
        )
    social = "".join(
        f'<a class="site-footer__social" href="https://social.example/{_slug(site_name)}/{net}" '
        f'aria-label="{net}">{_icon(i + 1)}</a>'
        for i, net in enumerate(("facebook", "x", "instagram", "youtube", "tiktok"))
    )
    return (
        '<footer class="site-footer" role="contentinfo"><div class="container"><div class="site-footer__top">'
        f'<a class="site-footer__logo" href="/">{_e(site_name)}</a><div class="site-footer__socials">{social}'
        f'</div></div><div class="site-footer__columns">{"".join(columns)}</div><div '
        'class="site-footer__bottom">'
        f'<p class="site-footer__legal">{_legal_text(site_name)}</p></div></div></footer>'
    )


def _body_scripts(article_id: str) -> str:
    return (
        "<script>document.querySelectorAll('.site-nav__link').forEach(function(a){a.addEventListener('click',"
        "function(e){var m=a.nextElementSibling;if(m){e.preventDefault();m.hidden=!m.hidden;"
        "a.setAttribute('aria-expanded',String(!m.hidden))}})});</script>\n"
        "<script>(function(){var l=document.querySelector('.ticker__list');if(!l)return;var i=0;"
        "setInterval(function(){i=(i+1)%l.children.length;l.style.transform='translateY(-'+i*2+'em)'},6000)"
        "})();</script>\n"
        f"<script>window.__COMMENTS__={{thread:'{article_id}',sort:'newest',pageSize:20,"
        "endpoint:'/api/comments'};</script>\n"
        "<script>window.__PLAYER__={autoplay:!1,muted:!0,adTag:'/21877/video/preroll',skin:'dark'};"
        "</script>\n"
        "<script>(self.__chunks=self.__chunks||[]).push([[101],{\n\x00fill:js1\x00\n}]);</script>\n"
        "<script>(self.__chunks=self.__chunks||[]).push([[214],{\n\x00fill:js2\x00\n}]);</script>\n"
        "<script>(self.__chunks=self.__chunks||[]).push([[377],{\n\x00fill:js3\x00\n}]);</script>\n"
        "<script>window.fwq=window.fwq||[];\x00fill:js4\x00</script>\n"
        f'<script id="app-state" type="application/json">{{"page":{{"id":"{article_id}","type":"article"}},'
        '"modules":[\x00fill:json0\x00]}</script>\n'
        "<style>\n\x00fill:css1\x00</style>\n"
        "<script>document.querySelectorAll('[data-consent]').forEach(function(b){b.addEventListener('click',"
        "function(){window.__cmp('set',b.dataset.consent);b.closest('.privacy-prompt').remove()})});"
        "</script>\n"
        "<script>window.addEventListener('load',function(){var s=document.createElement('script');"
        "s.src='https://metrics.example/beacon.js?v=3';s.async=!0;document.body.appendChild(s)});</script>"
    )


def news_page_html(
    *,
    title: str,
    paragraphs: Sequence[str],
    published: datetime,
    canonical: str,
    site_name: str = "Loopback News",
    seed: int = 0,
    size_kb: float = DEFAULT_SIZE_KB,
    standfirst: str | None = None,
) -> str:
    """A full news article page around `title` and `paragraphs`; about `size_kb` KiB of UTF-8.

    `standfirst` defaults to the first sentence of the first paragraph, as many sites do. The article
    text and the standfirst never depend on `seed`; the boilerplate does (see :func:`page_boilerplate`).
    """
    if published.tzinfo is None:
        published = published.replace(tzinfo=UTC)
    bp = page_boilerplate(site_name=site_name, seed=seed, size_kb=size_kb)
    menu_links, _ = _link_counts(size_kb)
    parts = urlsplit(canonical)
    origin = f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
    section = _SECTIONS[zlib.crc32(title.encode()) % 4][0]
    article_id = f"a{zlib.crc32(canonical.encode()):08x}"
    if standfirst is None:
        first = paragraphs[0] if paragraphs else title
        match = re.match(r"(.+?[.!?])(?:\s|$)", first)
        standfirst = match.group(1) if match else first
    words = sum(len(p.split()) for p in paragraphs)
    head = _head(
        title=title,
        description=standfirst,
        published=published,
        canonical=canonical,
        site_name=site_name,
        origin=origin,
        bp=bp,
        section=section,
        article_id=article_id,
        words=words,
    )
    article = _article(
        title=title,
        standfirst=standfirst,
        paragraphs=paragraphs,
        published=published,
        section=section,
        bp=bp,
        seed=seed,
    )
    page = (
        f'<!doctype html>\n<html lang="en-GB" class="no-js">\n{head}\n'
        f'<body class="template-article section-{_slug(section)}">\n{_cookie_dialog()}\n'
        '<div id="app" data-hydrated="false"><div class="page-shell"><div class="page-shell__inner">\n'
        f"{_header(site_name, bp, menu_links, seed)}\n"
        '<main id="main-content" class="page page--article"><div class="container"><div class="layout-grid">'
        f'<div class="layout-grid__main">{article}{_related(bp, section, seed)}'
        + _ad_slot("mpu", "news/article/bottom", "[[300,250],[300,600]]", seed)
        + f"{_newsletter()}{_comments(bp, seed, published)}</div>"
        f'<div class="layout-grid__aside"><div class="sticky-rail">{_most_read(bp, seed)}</div></div>'
        "</div></div></main>\n"
        f"{_footer(site_name, bp)}\n</div></div></div>\n{_body_scripts(article_id)}\n</body>\n</html>\n"
    )
    body_at = page.index("<body")
    most = max(0, min(8, int(size_kb / 25)))  # light pages carry fewer utility classes
    page = page[:body_at] + _CLASS_ATTR.sub(lambda m: _with_utilities(m.group(1), most), page[body_at:])
    base = len(page.encode("utf-8")) - sum(len(m.group(0)) for m in _FILL_MARK.finditer(page))
    budget = max(0, int(size_kb * 1024) - base)
    return _FILL_MARK.sub(
        lambda m: _fill(site_name, m.group(1), round(budget * _FILL_SHARES[m.group(1)])), page
    )
