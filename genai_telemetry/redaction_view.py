"""The views that `redaction` also searches when text is written in other characters than the
ones its patterns look for.

The ASCII view: fullwidth and other compatibility characters (`ｓｋ-proj-…`, `ｐａｓｓｗｏｒｄ＝…`),
and letters of other scripts drawn like Latin ones inside a Latin word (Cyrillic `ѕk-proj-…`,
`раssword=…`). It has one character for each of the text's, so a secret found in it is masked at
the same place in the text, and every stretch kept comes back in its own characters.

The visible view, searched first: the text without the characters a reader never sees (zero-width
spaces and joiners, soft hyphens, bidi controls, variation selectors: `sk-pr\u200boj-…` is a key
to whoever reads the log), Unicode tag letters read as the ASCII they encode (invisible, yet read
by a model). It keeps the index of each of its characters in the text, so kept stretches come
back as written there too."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable


class _CompatFold(dict[int, str]):
    """str.translate table to an ASCII view of non-ASCII text, one character for one: a
    character whose NFKC form is one ASCII character becomes it (fullwidth `ｓ` and mathematical
    `𝐬` → `s`, `＝` → `=`, ideographic space → space), any other non-ASCII character becomes NUL,
    which no pattern looks for and which, like punctuation, ends a word. Filled on demand and
    bounded (hostile text may bring many distinct characters)."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        if code >= 128:
            folded = unicodedata.normalize("NFKC", char)
            char = folded if len(folded) == 1 and folded.isascii() else "\0"
        if len(self) < _COMPAT_FOLD_SIZE:
            self[code] = char
        return char


_COMPAT_FOLD_SIZE = 4096
_COMPAT_FOLD = _CompatFold()
_ANY_TAG = re.compile(r"(\[REDACTED:[a-z_]+\])")

# Letters of other scripts that look like a Latin one (NFKC leaves them alone: they are letters
# of their own): Cyrillic, Greek, Armenian and a few Latin variants, each with its look-alike.
_HOMOGLYPHS = """
    аa сc ԁd еe һh іi јj ӏl оo рp ԛq ѕs ԝw хx уy
    АA ВB СC ЕE НH ІI ЈJ КK МM ОO РP ԚQ ЅS ТT ԜW ХX УY ҮY
    ΑA ΒB ΕE ΖZ ΗH ΙI ΚK ΜM ΝN ΟO ΡP ΤT ΥY ΧX οo αa ιi κk νv ρp υu
    օo սu ոn հh ıi ɑa ɡg
"""
_HOMOGLYPH_FOLD = {ord(pair[0]): pair[1] for pair in _HOMOGLYPHS.split()}
_LOOKALIKES = "".join(pair[0] for pair in _HOMOGLYPHS.split())
# A word that mixes them with ASCII letters or digits (`раssword`, `ѕk`, `АКІА7Q…`) is read as
# Latin. A word wholly in another script is that script's word (Russian `ОТР`, Greek `ΚΑΙ`) and
# stays NUL in the view. A match starts only where such a run starts, and its parts are taken
# whole (possessive), so the search is linear.
_MIXED_WORD = re.compile(f"(?<![A-Za-z0-9{_LOOKALIKES}])(?:[A-Za-z0-9]++|[{_LOOKALIKES}]++){{2,}}+")
# Whether there is one: a look-alike letter next to an ASCII letter or digit. Starting with a
# character set, this scan skips to look-alike letters (4× faster than searching for the word).
_MIXED_EDGE = re.compile(f"[{_LOOKALIKES}](?:(?<=[A-Za-z0-9].)|(?=[A-Za-z0-9]))")


def ascii_view(text: str) -> str | None:
    """The ASCII view of non-ASCII `text`, or None when it would show nothing the patterns do
    not already see in `text`: most non-ASCII text (accents, CJK, emoji, Russian) is NFKC
    already and has no word mixing scripts (two C-level scans)."""
    if _MIXED_EDGE.search(text) is None:
        return None if unicodedata.is_normalized("NFKC", text) else text.translate(_COMPAT_FOLD)
    view = text.translate(_COMPAT_FOLD)  # look-alike letters become NUL here, like any other
    parts: list[str] = []
    pos = 0
    for word in _MIXED_WORD.finditer(text):
        parts += (view[pos : word.start()], word.group().translate(_HOMOGLYPH_FOLD))
        pos = word.end()
    parts.append(view[pos:])
    return "".join(parts)


# Unicode's Default_Ignorable_Code_Point characters (DerivedCoreProperties.txt): drawn as
# nothing. Tag letters (U+E0020-U+E007E) are among them; the view reads them as ASCII.
_IGNORABLE = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0000-\U000e0fff"
)
INVISIBLE = re.compile(f"[{_IGNORABLE}]+")
_TAG_LETTERS = range(0xE0020, 0xE007F)


def visible_view(text: str) -> tuple[str, list[int]] | None:
    """`text` as a reader sees it, and the index in `text` of each of its characters; None when
    `text` has no invisible character (one C-level scan)."""
    if INVISIBLE.search(text) is None:
        return None
    parts: list[str] = []
    index: list[int] = []
    pos = 0
    for run in INVISIBLE.finditer(text):
        parts.append(text[pos : run.start()])
        index.extend(range(pos, run.start()))
        for at in range(run.start(), run.end()):
            if ord(text[at]) in _TAG_LETTERS:
                parts.append(chr(ord(text[at]) - 0xE0000))
                index.append(at)
        pos = run.end()
    parts.append(text[pos:])
    index.extend(range(pos, len(text)))
    return "".join(parts), index


def redact_visible(text: str, seen: tuple[str, list[int]], apply: Callable[[str], str]) -> str:
    """`text` with what `apply` masks in its visible view `seen` masked. Kept stretches come back
    as written (invisible characters included; those at either end of the text too); invisible
    characters next to a masked stretch go with it."""
    view, index = seen
    redacted = apply(view)
    if redacted == view:
        return text
    out: list[str] = []
    pos = 0
    for i, piece in enumerate(_ANY_TAG.split(redacted)):
        at = -1 if i % 2 or not piece else view.find(piece, pos)
        if at < 0:  # a tag (or text no longer found)
            out.append(piece)
            continue
        end = at + len(piece)
        start = 0 if at == 0 else index[at]
        out.append(text[start : len(text) if end == len(view) else index[end - 1] + 1])
        pos = end
    return "".join(out)


def redact_in_view(text: str, view: str, apply: Callable[[str], str]) -> str:
    """`text` with what `apply` (the precheck and the guarded steps) masks in `view` masked.
    Each stretch kept is put back in its own characters, so text with no such secret comes back
    unchanged."""
    redacted = apply(view)
    if redacted == view:
        return text
    # `redacted` is `view` with stretches replaced by tags: find each kept stretch in `view`, in
    # order, from where the last one ended (same positions as in `text`). It starts with the
    # character that ended the match before it (a space, quote or separator, which the masked
    # text cannot hold), so it is not found inside that text, bar a length cap.
    out: list[str] = []
    pos = 0
    for i, piece in enumerate(_ANY_TAG.split(redacted)):
        at = -1 if i % 2 else view.find(piece, pos)
        if at < 0:  # a tag, or text no longer found (a later step cut into a tag)
            out.append(piece.replace("\0", "\ufffd"))
        else:
            out.append(text[at : at + len(piece)])
            pos = at + len(piece)
    return "".join(out)
