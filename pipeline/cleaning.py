"""Remove the leftovers that news pages leave in extracted article text.

trafilatura keeps what looks like prose, so share bars, "Also read" teasers, newsletter and paywall
prompts, cookie notices and photo credits often survive as lines of their own. They are noise for fact
extraction (a teaser headline can carry a stale number) and for near-duplicate detection, so they are
dropped here.

The rules are data: each is a named regular expression that must match a *whole* line, and all of them are
compiled into one alternation so a line costs a single regex call. A few rules need their neighbours
(a caption followed by its credit, a line repeated as a caption, a comment form at the end of a page);
those are the named passes in :func:`clean_lines`. Lines longer than :data:`MAX_RULE_LINE` characters are
never matched: boilerplate is short and real paragraphs are not, which keeps cleaning cheap and safe.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

MAX_RULE_LINE = 400
"""Longest line the line rules look at; cookie notices are the longest boilerplate we drop."""


@dataclass(frozen=True, slots=True)
class Rule:
    """One kind of leftover line, matched against the whole (stripped) line, case-insensitively."""

    name: str
    pattern: str
    why: str


_SOCIAL = (
    r"facebook|twitter|x|x\.com|whatsapp|telegram|linkedin|reddit|pinterest|instagram|tiktok|youtube|"
    r"threads|bluesky|flipboard|e-?mail|email|print|copy\s+link|copy\s+url|messenger|sms|tumblr|"
    r"google\s+news|google\s+plus|google\+|mastodon|pocket|copied!?|link\s+copied"
)
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)\w*\.?"
_DATE = (
    r"(?:\d{1,2}(?:st|nd|rd|th)?\s+" + _MONTH + r"|" + _MONTH + r"\s+\d{1,2}|\d{4}-\d{2}-\d{2}"
    r"|\d{1,2}[/.]\d{1,2}[/.]\d{2,4}|\d+\s+(?:min(?:ute)?s?|hours?|hrs?|days?)\s+ago)"
)
_CHANNELS = r"whatsapp|telegram|google\s+news|facebook|twitter|x|instagram|tiktok|youtube|linkedin|threads"

RULES: tuple[Rule, ...] = (
    Rule(
        "share_prompt",
        r"(?:share|tweet|pin|post|send|e-?mail)(?:\s+(?:this|the|it))?"
        r"(?:\s+(?:article|story|post|page|link|video|now|on|via|with|to|by))?"
        r"(?:\s+(?:" + _SOCIAL + r"|a\s+friend|your\s+friends))?\s*[.:!]?"
        r"|share(?:\s+(?:this|the))?(?:\s+(?:article|story|post|page))?\s*(?:on|via)\s*[:.]?"
        r"(?:\s*(?:" + _SOCIAL + r")\s*[,|/·•]?)*"
        r"|(?:like|enjoy(?:ed)?|love)\s+this\s+(?:story|article|post)\??\s+share\s+it.{0,60}"
        r"|click\s+to\s+share.{0,60}|share\s+(?:icon|button|options)|\d[\d,.]*k?\s+shares?",
        "share bars and 'share this' buttons",
    ),
    Rule(
        "social_name",
        r"(?:(?:" + _SOCIAL + r")\s*[,|/·•]?\s*){1,8}",
        "a social network's name alone on a line, left from a share bar",
    ),
    Rule(
        "reply_prompt",
        r"leave\s+a\s+(?:reply|comment)(?:\s+cancel\s+reply)?\.?|(?:post\s+a\s+|add\s+a\s+|write\s+a\s+)?comments?"
        r"(?:\s*\(\d+\))?\s*[.:]?|\d+\s+comments?|reply|cancel\s+reply|view\s+comments?"
        r"|(?:show|load|see|read)\s+(?:all\s+|more\s+)?comments?(?:\s*\(\d+\))?"
        r"|join\s+the\s+(?:conversation|discussion)|comments\s+are\s+closed\.?"
        r"|you\s+must\s+be\s+logged\s+in\s+to\s+post\s+a\s+comment\.?|exit\s+mobile\s+version",
        "comment-form leftovers and reply prompts",
    ),
    Rule(
        "read_more",
        r"(?:also\s+read|read\s+also|read\s+more|more\s+reading|read\s+next|up\s+next|see\s+also|related"
        r"(?:\s+(?:stories|articles|news|content|coverage|reading|posts|links))?|recommended(?:\s+for\s+you)?"
        r"|you\s+(?:may|might)\s+also\s+(?:like|be\s+interested\s+in)|more\s+(?:on\s+this\s+story|stories|news)"
        r"|don'?t\s+miss|must\s+read|trending(?:\s+now)?|popular\s+(?:now|stories)|editor'?s\s+picks?"
        r"|watch|listen|top\s+stories|also\s+on\s+[\w.-]+|more)"
        r"(?:\s*[:|>»]\s*.{0,220}|\s+[–—-]\s+.{0,220}|\s*[.:]?)"
        r"|(?:also\s+read|read\s+also|read\s+next|also\s+on\s+[\w.-]+)\s+.{1,220}",
        "'Also read:' / 'Read more' teasers pointing at other articles",
    ),
    Rule(
        "continue_reading",
        r"(?:click|tap)\s+here\s+to\s+(?:read|continue|see).{0,80}|continue\s+reading(?:\s+(?:below|the\s+"
        r"(?:main\s+)?story))?\.?|scroll\s+(?:down\s+)?to\s+(?:read|continue)(?:\s+(?:the\s+)?(?:article|story))?"
        r"\.?|(?:story|article)\s+continues\s+below(?:\s+(?:this\s+)?(?:advertisement|ad))?\.?"
        r"|advertisement|advert|sponsored(?:\s+content)?|ad|skip\s+(?:advert|ad|to\s+content|to\s+main\s+content)"
        r"|this\s+is\s+a\s+(?:breaking|developing)\s+(?:news\s+|new\s+)?story.{0,60}|more\s+to\s+follow\.?",
        "navigation hints and ad markers between paragraphs",
    ),
    Rule(
        "follow_channel",
        r"(?:follow|join|subscribe\s+to)\s+(?:us|our|the\s+[\w'’. ]{1,60}?)(?:\s+[\w'’.]+){0,5}\s+"
        r"(?:on|channel|page|account|handle)(?:\s+(?:on\s+)?(?:(?:" + _CHANNELS + r")[\s,&]*(?:and\s+)?)+)?"
        r"(?:\s+(?:for|to\s+get)\s+[^.!]{0,80})?\s*[.:!]?"
        r"|(?:follow|join)\s+(?:us|our)\s+(?:on\s+)?(?:" + _CHANNELS + r").{0,80}"
        r"|(?:follow|find)\s+(?:us|[\w'’ .]{1,40})\s+on\s+(?:(?:" + _CHANNELS + r")(?:\s*\(@?[\w.]+\))?"
        r"[\s,&]*(?:and\s+)?)+\.?"
        r"|(?:get|stay)\s+(?:the\s+)?(?:latest|breaking|real-time)\s+(?:news|updates).{0,60}"
        r"(?:whatsapp|telegram|channel|app|inbox|notifications).{0,40}",
        "'Follow our WhatsApp channel' and follow-us-on lines",
    ),
    Rule(
        "newsletter",
        r"(?:sign\s+up|subscribe|register)\s+(?:for|to)\s+(?:our|the|a|free)?\s*[\w'’ -]{0,40}?"
        r"(?:newsletters?|emails?|alerts|briefing|digest|updates).{0,100}"
        r"|get\s+(?:(?:the|our|today's|today’s|[\w]+(?:'s|’s))\s+){0,2}(?:latest|best|top|biggest|key|essential)"
        r"\s+.{0,80}\s+(?:in|to|into)\s+your\s+inbox.{0,60}"
        r"|(?:enter|type)\s+your\s+e-?mail(?:\s+address)?.{0,80}|sign\s+up(?:\s+now|\s+here|\s+today)?[.!]?"
        r"|thank\s+you\s+for\s+(?:signing\s+up|subscribing).{0,80}|newsletter(?:\s+sign-?up)?"
        r"|by\s+signing\s+up,?\s+you\s+agree.{0,200}|this\s+site\s+is\s+protected\s+by\s+recaptcha.{0,200}",
        "newsletter and sign-up prompts",
    ),
    Rule(
        "paywall",
        r"(?:subscribe|sign\s+in|log\s*in|register)\s+(?:now\s+)?to\s+(?:continue\s+reading|read\s+(?:the\s+)?"
        r"(?:full|rest|this|more)|unlock|access\s+(?:this|the\s+full|all|premium|exclusive)|keep\s+reading"
        r"|get\s+(?:full|unlimited)).{0,160}"
        r"|(?:this|the)\s+(?:article|story|content|piece)\s+is\s+(?:only\s+)?(?:for|available\s+to|reserved\s+"
        r"for)\s+(?:paid\s+|premium\s+|our\s+)?(?:subscribers|members).{0,120}"
        r"|(?:already\s+(?:a\s+)?(?:subscriber|member|registered)|have\s+an\s+account)\s*\?.{0,60}"
        r"|already\s+(?:a\s+)?subscriber.{0,40}(?:log|sign)\s*in.{0,30}"
        r"|(?:you(?:'ve|\s+have)\s+(?:reached|used|read)\s+(?:your|all\s+(?:of\s+)?your|the)\s+"
        r"(?:limit|(?:\w+\s+)?free\s+(?:articles?|stories|reads))).{0,160}"
        r"|your\s+(?:subscription|premium\s+access|free\s+trial|access|membership|trial)\s+(?:is\s+|has\s+)?"
        r"(?:almost\s+)?(?:coming\s+to\s+an\s+end|ending|ended|expired|expiring|about\s+to\s+(?:end|expire)"
        r"|over).{0,200}"
        r"|(?:reclaim|unlock|renew)\s+(?:now\s+)?(?:your\s+)?(?:full|unlimited|premium|digital)\s+"
        r"(?:access|subscription).{0,120}|get\s+unlimited\s+(?:digital\s+)?access.{0,120}|renew\s+now.{0,120}"
        r"|(?:ready|want)\s+to\s+continue\s+(?:your\s+)?[\w ]{0,30}journey.{0,60}"
        r"|subscribe(?:\s+now|\s+today)?\s+(?:for|from|at)\s+(?:just\s+|only\s+)?(?:\$|€|£|ksh\.?|kes)\s?\d.{0,80}"
        r"|(?:start|try)\s+(?:your\s+)?free\s+trial.{0,80}"
        r"|(?:create|register\s+for)\s+a\s+free\s+account.{0,100}"
        r"|(?:become|join)\s+(?:a\s+)?(?:subscriber|member)(?:[.!]?|\s+(?:today|now)\b.{0,80}"
        r"|\s+(?:to|and)\s+(?:get|enjoy|read|unlock|support)\b.{0,80})"
        r"|(?:exclusive|premium)\s+(?:content|article|story)\s+for\s+subscribers.{0,80}"
        r"|(?:to\s+)?(?:continue|keep)\s+reading,?\s+(?:please\s+)?(?:subscribe|sign\s+in|log\s*in|register).{0,120}",
        "paywall and subscription prompts",
    ),
    Rule(
        "prompt_button",
        r"(?:subscribe|log\s*in|sign\s+in|register|log\s*out|sign\s+out|my\s+account|menu|search|close)"
        r"(?:\s+(?:now|today|here))?[.!]?|hello(?:\s+there)?[,!.]?|hi\s+there[,!.]?",
        "bare buttons and the greeting that heads a prompt; too common to count as a paywall sign",
    ),
    Rule(
        "cookie_notice",
        r".{0,200}\b(?:we|this\s+(?:web)?site|our\s+(?:web)?site|our\s+partners)\s+(?:and\s+our\s+partners\s+)?"
        r"(?:use|uses|store|set)\s+cookies(?:\s+and\s+similar\s+technologies)?"
        r"(?:\s+(?:to|for|so|on|in\s+order)\b.{0,300}|\s*[.!].{0,300})"
        r"|.{0,120}\bby\s+(?:continuing|clicking|using|browsing)\b.{0,120}\byou\s+(?:agree|accept|consent)"
        r".{0,200}"
        r"|(?:accept|reject|allow|manage|decline)\s+(?:all\s+)?(?:cookies|cookie\s+settings|preferences)\.?"
        r"|cookie\s+(?:settings|policy|preferences|consent|notice)\.?|(?:i\s+)?(?:accept|agree|got\s+it|ok)[.!]?",
        "cookie banners and their buttons",
    ),
    Rule(
        "photo_credit",
        r"(?:photo|photograph|picture|pic|image|video|graphic|illustration|file\s+photo|photo\s+credit|"
        r"image\s+credit|credit|caption|image\s+source|image\s+caption|source)s?\s*[:|]\s*.{1,160}"
        r"|image\s+(?:source|caption),\s*.{1,160}"
        r"|\((?:photos?|pictures?|images?|video)\s+(?:by|courtesy(?:\s+of)?|via)\s+[^)]{1,120}\)\.?"
        r"|(?:photos?|pictures?|images?)\s+(?:by|courtesy(?:\s+of)?|via)\s+\S+(?:\s+\S+){0,4}"
        r"|\((?:ap|afp|reuters|getty|epa|xinhua|anadolu)[\w /.-]{0,40}(?:photo|images?)[\w /.,-]{0,80}\)"
        r"|(?:ap|afp|reuters|getty|epa)\s+(?:photo|images?)(?:\s*/\s*.{1,80})?"
        r"|.{1,60}\s*/\s*(?:getty\s+images|afp|reuters|ap|shutterstock|epa)(?:\s+via\s+.{1,40})?"
        r"|getty\s+images|shutterstock|file\s+photo|photo|photos|image|(?:open\s+)?(?:image\s+)?gallery"
        r"|caption\s+for\s+the\s+\w+\s+image:?|(?:toggle|expand|enlarge|view)\s+(?:caption|image|gallery).{0,40}"
        r"|\d+\s*/\s*\d+|[\w\s]{0,40}\bphoto\s*[:|]\s*.{1,80}",
        "photo captions' credit lines and gallery controls",
    ),
    Rule(
        "byline",
        r"(?-i:(?:By|BY)\s+[A-Z][\w.'’-]+(?:\s+[A-Z][\w.'’-]+){0,3}"
        r"(?:\s*(?:,|\||and|&|–|—|-)\s*[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,3}){0,3})\.?"
        r"|(?:written|edited)\s+by\s+\S+(?:\s+\S+){0,4}"
        r"|(?:additional\s+)?reporting\s+by\s+.{1,300}(?:editing|edited)\s+by\s+.{1,160}"
        r"|(?:with\s+(?:files|reporting)\s+from|additional\s+reporting\s+by)\s+.{1,120}"
        r"|.{1,200}\bcontributed\s+(?:to\s+)?(?:this\s+)?(?:report|story|reporting)\.?",
        "byline and credit lines that repeat the metadata",
    ),
    Rule(
        "timestamp",
        r"(?:published|updated|posted|last\s+updated|first\s+published|modified)(?:\s+(?:on|at))?\s*[:|]?\s*"
        r"(?:(?:mon|tue|wed|thu|fri|sat|sun)\w*\.?,?\s+)?" + _DATE + r"[\w ,:./+()-]{0,40}"
        r"|\d+\s+(?:min(?:ute)?s?|hours?|hrs?|days?)\s+(?:ago|read)|(?:\d+\s+)?min(?:ute)?s?\s+read"
        r"|(?:(?:mon|tue|wed|thu|fri|sat|sun)\w*\.?,?\s+)?" + _DATE + r"(?:,?\s+\d{4})?"
        r"(?:,?\s*(?:at\s+|[|·•-]\s*)?\d{1,2}[:.]\d{2}(?:\s*[ap]\.?m\.?)?(?:\s+[a-z]{2,5})?)?\.?",
        "timestamp, dateline-only and reading-time lines",
    ),
    Rule(
        "bare_url",
        r"(?:[\w' ]{1,30}:\s*)?(?:https?://|www\.)\S+",
        "a bare link on its own line (the target of a 'follow'/'read' prompt)",
    ),
    Rule(
        "no_words",
        r"[\W_]*",
        "lines with no letters or digits (bullets, dots, separators)",
    ),
    Rule(
        "tags",
        r"(?:tags|topics|filed\s+under|categories|more\s+about)\s*:.{0,200}",
        "topic-tag lists",
    ),
)


def _compile(rules: tuple[Rule, ...]) -> re.Pattern[str]:
    alternatives = "|".join(f"(?P<{rule.name}>{rule.pattern})" for rule in rules)
    return re.compile(alternatives, re.IGNORECASE)


LINE_PATTERN = _compile(RULES)
"""All line rules in one alternation; `match.lastgroup` names the rule that fired."""

RULE_PATTERNS: dict[str, re.Pattern[str]] = {r.name: re.compile(r.pattern, re.IGNORECASE) for r in RULES}
"""Each rule on its own, for tests and for explaining a decision."""

CONTEXT_RULES: dict[str, str] = {
    "repeated_line": "a line already seen earlier (repeated captions, teaser headlines, pull quotes)",
    "caption_before_credit": "the caption line right above a 'Photo:' / 'Photo credit:' line",
    "credit_after_label": "the credit name on the line after a lone 'Photo' / 'Image' label",
    "doubled_caption": "a caption printed twice on one line (alt text glued to the figcaption)",
    "alt_before_caption_label": "the alt text right above a 'Caption for the … image:' label",
    "comment_tail": "everything after a comment-form marker in the last part of the page",
}
"""The rules that look at neighbouring lines, by name (see :func:`clean_lines`)."""

_INVISIBLE = re.compile(r"[\u200b-\u200d\u2060\ufeff\u00ad]")
_WORDS = re.compile(r"\w+")
_CREDIT_LABEL = re.compile(
    r"(?:photo|image|picture|photograph)(?:\s+credit)?s?\s*[:|]\s*\S.{0,120}", re.IGNORECASE
)
_LONE_LABEL = re.compile(r"(?:photo|image|picture|photograph|credit|photo\s+credit)s?\s*:?", re.IGNORECASE)
_CAPTION_LABEL = re.compile(r"caption\s+for\s+the\s+\w+\s+image:?", re.IGNORECASE)
_TAIL_MARKERS = re.compile(
    r"leave\s+a\s+(?:reply|comment)\.?|exit\s+mobile\s+version|comments\s*(?:\(\d+\))?|\d+\s+comments?"
    r"|(?:related|more)\s+(?:stories|articles|news)|you\s+(?:may|might)\s+also\s+like.{0,20}",
    re.IGNORECASE,
)
_SENTENCE_BREAK = re.compile(r"[.!?][\"”’']?\s+[\"“‘']?[A-Z]")
_REPORTING_VERB = re.compile(
    r"\b(?:said|says|told|tells|according\s+to|added|stated)\b|[\"“”]", re.IGNORECASE
)
_TAIL_FRACTION = 0.6
_CAPTION_MAX_WORDS = 35
_CREDIT_MAX_WORDS = 5


@dataclass(slots=True)
class CleanResult:
    """Cleaned lines plus which rules fired, so callers (paywall detection, benchmarks) can tell why."""

    lines: list[str]
    fired: Counter[str] = field(default_factory=Counter)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def normalize_line(line: str) -> str:
    """Collapse runs of any Unicode space (NBSP, thin space, tabs) to one space and trim the line."""
    return " ".join(line.split())


def _key(line: str) -> str:
    return " ".join(_WORDS.findall(line.casefold()))


def _word_count(line: str) -> int:
    return len(_WORDS.findall(line))


def _looks_like_caption(line: str) -> bool:
    """One short descriptive sentence; reported speech or a second sentence means a paragraph."""
    return (
        _word_count(line) <= _CAPTION_MAX_WORDS
        and _SENTENCE_BREAK.search(line) is None
        and _REPORTING_VERB.search(line) is None
    )


def _is_doubled(line: str) -> bool:
    """Alt text and caption glued together by the extractor: the same text twice in one line."""
    half, odd = divmod(len(line), 2)
    if half < 15:
        return False
    if odd:
        return line[half] == " " and line[:half] == line[half + 1 :]
    return line[:half] == line[half:]


def _looks_like_credit(line: str) -> bool:
    """A short name-like line with no sentence ending: an agency or photographer."""
    return 0 < _word_count(line) <= _CREDIT_MAX_WORDS and not line.endswith((".", "?", "!", "”", '"'))


def line_rule(line: str) -> str | None:
    """Name of the line rule that drops this (normalized) line, or None to keep it."""
    if len(line) > MAX_RULE_LINE:
        return None
    match = LINE_PATTERN.fullmatch(line)
    return match.lastgroup if match else None


def clean_lines(text: str) -> CleanResult:
    """Apply the line rules and the neighbour rules; return kept lines and the rules that fired."""
    result = CleanResult(lines=[])
    fired = result.fired
    # Soft hyphens and zero-width characters hide words from rules and from fact patterns.
    text = _INVISIBLE.sub("", unicodedata.normalize("NFC", text))
    lines = [line for line in map(normalize_line, text.splitlines()) if line]
    n = len(lines)
    drop = [False] * n
    captions: set[str] = set()

    for i, line in enumerate(lines):
        name = line_rule(line)
        if name is not None:
            drop[i] = True
            fired[name] += 1
        if _LONE_LABEL.fullmatch(line) and i + 1 < n and _looks_like_credit(lines[i + 1]):
            drop[i + 1] = True
            fired["credit_after_label"] += 1
        elif _is_doubled(line):
            drop[i] = True
            fired["doubled_caption"] += 1
            captions.add(_key(line[: len(line) // 2]))

    for i in range(1, n):
        if drop[i - 1]:
            continue
        line = lines[i]
        previous = lines[i - 1]
        if _CAPTION_LABEL.fullmatch(line) and _word_count(previous) <= _CAPTION_MAX_WORDS:
            drop[i - 1] = True
            fired["alt_before_caption_label"] += 1
        elif _CREDIT_LABEL.fullmatch(line) and _looks_like_caption(previous):
            drop[i - 1] = True
            fired["caption_before_credit"] += 1

    seen: dict[str, int] = {}
    for i, line in enumerate(lines):
        key = _key(line)
        if not key:
            continue
        if key in captions:
            drop[i] = True
            fired["repeated_line"] += 1
            continue
        first = seen.get(key)
        if first is None:
            seen[key] = i
            continue
        drop[i] = True
        fired["repeated_line"] += 1
        # A line repeated right away is a caption shown twice (image alt + figcaption): the first copy is
        # a caption too, and a short line after the pair is its credit.
        if first == i - 1 and _looks_like_caption(line):
            drop[first] = True
            if i + 1 < n and _looks_like_credit(lines[i + 1]):
                drop[i + 1] = True
                fired["credit_after_label"] += 1

    tail_start = int(n * _TAIL_FRACTION)
    for i in range(max(tail_start, 1), n):
        if len(lines[i]) <= 60 and _TAIL_MARKERS.fullmatch(lines[i]):
            for j in range(i, n):
                drop[j] = True
            fired["comment_tail"] += 1
            break

    result.lines = [line for line, dropped in zip(lines, drop, strict=True) if not dropped]
    if fired:
        logger.debug("cleaning dropped %s lines: %s", sum(drop), dict(fired))
    return result


def clean_text(text: str) -> str:
    """Article text with one paragraph per line and the page's leftovers removed."""
    return clean_lines(text).text
