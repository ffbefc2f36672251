"""Input and output guardrails of the pipeline: what each checks and what it does.

    pii               input   personal data or secrets in the question      flagged
    prompt_injection  input   instruction-override / prompt-leak phrasing   blocked
    no_sources        output  a retrieval answer citing no document         flagged

Both input checks read the question as a model does: PII through the redaction module (which
reads through invisible characters and look-alike letters), injection phrasing in `as_read`'s
view of it. Blocked questions are answered with a refusal (finish reason `content_filter`, route
`guardrail`) without calling any model; flagged ones are answered as usual. Every check counts
once in llm_guardrail_checks_total{guardrail, action}. PII detection is the redaction module's
own detectors (a question it would redact holds PII), so there is one set of patterns.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from genai_telemetry import semconv as sc
from genai_telemetry.redaction import redact
from genai_telemetry.redaction_view import ascii_view, visible_view

REFUSAL = "I can't help with that request."
FINISH_REASON_BLOCKED = "content_filter"  # as OpenAI-compatible APIs name a filtered answer

_TAG = re.compile(r"\[REDACTED:([a-z_]+)\]")

# Heuristics for the common injection shapes (OWASP LLM01 examples): overriding earlier
# instructions, asking for the hidden prompt, switching the model into an "unrestricted" persona,
# spoofing a system/assistant turn on a later line. Cheap, explainable, and deliberately narrow:
# a false block costs an answer (asking *about* jailbreaks or a system prompt passes), so
# ambiguous phrasing is left to a model-based classifier.
_INJECTION = re.compile(
    r"""(?ix)
      \b(?:ignore|disregard|forget|override)\s+(?:all\s+|any\s+|the\s+|your\s+)*
        (?:previous|prior|above|earlier|system|original)\s+
        (?:instructions?|prompts?|rules?|directions?|context)
    | \b(?:reveal|print|show|repeat|leak|output)\s+(?:me\s+)?(?:your|the)\s+
        (?:system|hidden|initial|original)\s+(?:prompt|instructions?|message)
    | \byou\s+are\s+now\s+(?:in\s+)?(?:dan|developer\s+mode|unrestricted|jailbroken)\b
    | \bdo\s+anything\s+now\b
    | \n[^\S\n]*(?:system|assistant)[^\S\n]*:  # not \s*: newline runs would be quadratic
    | </?\s*system\s*>
    """
)


# Line breaks a model (and str.splitlines) reads as one: a turn spoofed after any of them.
_LINE_BREAK = re.compile(r"\r\n?|[\v\f\x1c-\x1e\x85\u2028\u2029]")


def as_read(text: str) -> str:
    """`text` as a model reads it, for the injection heuristics: without the characters drawn as
    nothing (zero-width, soft hyphen, bidi controls; tag letters as the ASCII they encode),
    fullwidth and look-alike letters inside a Latin word as Latin (the redaction's own views,
    genai_telemetry/redaction_view.py), every line break as "\\n"."""
    if not text.isascii() and (seen := visible_view(text)) is not None:
        text = seen[0]
    text = _LINE_BREAK.sub("\n", text)
    view = None if text.isascii() else ascii_view(text)
    return text if view is None else view


@dataclass(frozen=True)
class Verdict:
    guardrail: str
    action: str  # semconv.GUARDRAIL_ACTIONS
    detail: str = ""  # what was found (bounded words, never the matched text)

    @property
    def triggered(self) -> bool:
        return self.action != sc.ACTION_PASSED


def pii_kinds(text: str) -> list[str]:
    """Kinds of personal data or secrets the redaction module finds in `text` (sorted)."""
    redacted = redact(text)
    if redacted == text:
        return []
    return sorted(set(_TAG.findall(redacted)) - set(_TAG.findall(text)))


def check_input(question: str) -> list[Verdict]:
    kinds = pii_kinds(question)
    pii = Verdict(sc.GUARDRAIL_PII, sc.ACTION_FLAGGED, ",".join(kinds)) if kinds else None
    injection = _INJECTION.search(as_read(question)) is not None
    return [
        pii or Verdict(sc.GUARDRAIL_PII, sc.ACTION_PASSED),
        Verdict(
            sc.GUARDRAIL_INJECTION,
            sc.ACTION_BLOCKED if injection else sc.ACTION_PASSED,
            "instruction override" if injection else "",
        ),
    ]


def check_output(route: str, sources: Sequence[object]) -> list[Verdict]:
    """Output checks of an answer; only retrieval answers are expected to cite sources."""
    if route != "retrieval":
        return []
    if sources:
        return [Verdict(sc.GUARDRAIL_NO_SOURCES, sc.ACTION_PASSED)]
    return [Verdict(sc.GUARDRAIL_NO_SOURCES, sc.ACTION_FLAGGED, "answer cites no document")]


def blocked(verdicts: Sequence[Verdict]) -> bool:
    return any(v.action == sc.ACTION_BLOCKED for v in verdicts)
