"""Loads tests/demo_app/redaction_corpus.yaml and expands its placeholders (seeded, so runs are
repeatable; nothing secret-shaped is committed). See the corpus file's header for the syntax."""

from __future__ import annotations

import base64
import random
import re
import string
from dataclasses import dataclass
from pathlib import Path

import yaml

from genai_telemetry.redaction import iban_valid, luhn_valid

CORPUS = Path(__file__).resolve().with_name("redaction_corpus.yaml")
_PLACEHOLDER = re.compile(r"\{(\w+)(?::([^}]*))?\}")
_SECRET = re.compile(r"<<(.*?)>>", re.S)
_ALPHABETS = {
    "alnum": string.ascii_letters + string.digits,
    "upper": string.ascii_uppercase + string.digits,
    "lower": string.ascii_lowercase,
    "digits": string.digits,
    "hex": "0123456789abcdef",
    "b64": string.ascii_letters + string.digits + "+/",
}


@dataclass(frozen=True)
class Sample:
    kind: str
    text: str
    secrets: tuple[str, ...]
    collector: bool
    template: str


class _Expander:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def rand(self, alphabet: str, n: int) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def card(self, prefix: str, length: str, sep: str = "") -> str:
        body = prefix + self.rand(string.digits, int(length) - len(prefix) - 1)
        digits = body + next(d for d in string.digits if luhn_valid(body + d))
        if not sep:
            return digits
        joiner = " " if sep == "s" else "-"
        return joiner.join(digits[i : i + 4] for i in range(0, len(digits), 4))

    def iban(self, country: str, bban_length: str) -> str:
        bban = self.rand(string.digits, int(bban_length))
        check = next(f"{c:02d}" for c in range(2, 99) if iban_valid(country + f"{c:02d}" + bban))
        return country + check + bban

    def pem(self, kind: str, escaped: bool = False, cut: bool = False) -> str:
        label = f"{kind} PRIVATE KEY".strip()
        lines = [f"-----BEGIN {label}-----"]
        lines += [self.rand(_ALPHABETS["b64"], 64) for _ in range(4)]
        if not cut:
            lines.append(f"-----END {label}-----")
        return ("\\n" if escaped else "\n").join(lines)

    def jwt(self) -> str:
        def part(n: int) -> str:
            return self.rand(_ALPHABETS["alnum"] + "-_", n)

        return "eyJ" + part(30) + ".eyJ" + part(60) + "." + part(43)

    def expand(self, template: str) -> str:
        def one(m: re.Match[str]) -> str:
            name, arg = m.group(1), m.group(2) or ""
            if name in _ALPHABETS:
                return self.rand(_ALPHABETS[name], int(arg))
            if name == "card":
                return self.card(*arg.split(":"))
            if name == "iban":
                return self.iban(*arg.split(":"))
            if name == "basic":
                user = self.rand(string.ascii_lowercase, 6)
                creds = f"{user}:{self.rand(_ALPHABETS['alnum'], 14)}"
                return base64.b64encode(creds.encode()).decode()
            if name == "pem_b64":
                return base64.b64encode(self.pem(arg).encode()).decode()
            if name in ("pem", "pem_escaped", "pem_cut"):
                return self.pem(arg, escaped=name == "pem_escaped", cut=name == "pem_cut")
            if name == "jwt":
                return self.jwt()
            raise ValueError(f"{CORPUS.name}: unknown placeholder {m.group(0)!r}")

        return _PLACEHOLDER.sub(one, template)


def load(seed: int = 20261201) -> tuple[list[Sample], list[str]]:
    """(secret samples, look-alikes) with placeholders expanded."""
    samples, lookalikes = load_all(seed)
    return samples, [text for text, _ in lookalikes]


def load_all(seed: int = 20261201) -> tuple[list[Sample], list[tuple[str, bool]]]:
    """Like `load`, look-alikes as (text, whether the collector must keep it too)."""
    data = yaml.safe_load(CORPUS.read_text())
    exp = _Expander(seed)
    samples = []
    for entry in data["secrets"]:
        expanded = exp.expand(entry["text"])
        secrets = tuple(_SECRET.findall(expanded))
        if not secrets:
            raise ValueError(f"{CORPUS.name}: no <<secret>> in {entry['text']!r}")
        samples.append(
            Sample(
                kind=entry["kind"],
                text=_SECRET.sub(r"\1", expanded),
                secrets=secrets,
                collector=entry.get("collector", True),
                template=entry["text"],
            )
        )
    lookalikes = [
        (item, True) if isinstance(item, str) else (item["text"], item.get("collector", True))
        for item in data["lookalikes"]
    ]
    return samples, lookalikes
