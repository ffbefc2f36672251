"""The ASCII view that `redaction` also searches when text is written in other characters than
the ones its patterns look for: fullwidth and other compatibility characters (`ｓｋ-proj-…`,
`ｐａｓｓｗｏｒｄ＝…`), and letters of other scripts drawn like Latin ones inside a Latin word
(Cyrillic `ѕk-proj-…`, `раssword=…`). The view has one character for each of the text's, so a
secret found in it is masked at the same place in the text, and every stretch kept comes back in
its own characters."""

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
