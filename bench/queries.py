"""Benchmark queries, generated reproducibly (fixed seed) from the corpus itself.

300 queries by default, in the mix readers type: frequent single words, rare words, two
and three words, quoted phrases, accented words typed without accents or in capitals, and
question-like queries; 20 % of them repeat earlier ones (readers search the same news),
so the result cache is measured as it is used.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from typing import Any

from unidecode import unidecode

from bench.corpus import text_of

WORD = re.compile(r"[^\W\d_]{4,}")
STOP = {
    "dans", "pour", "avec", "sont", "être", "leur", "leurs", "cette", "celui", "celle", "ceux",
    "elles", "mais", "plus", "tout", "tous", "toute", "toutes", "sans", "sous", "entre", "aussi",
    "dont", "fait", "peut", "doit", "lors", "ainsi", "après", "avant", "même", "autre", "autres",
    "article", "articles", "alinéa", "code", "prévu", "prévues", "prévus", "prévue", "présent",
}  # fmt: skip
QUESTIONS = ("quelles sont les {} ?", "qu'est-ce que {} ?", "comment fonctionne {} ?",
             "quand {} est applicable", "qui peut demander {} ?")


def generate(records: list[dict[str, Any]], count: int = 300, seed: int = 7,
             repeat: float = 0.2) -> list[dict[str, str]]:
    """`count` queries as {"kind", "text"}, the same for the same corpus and seed."""
    rng = random.Random(seed)
    df: Counter[str] = Counter()
    sample = records if len(records) <= 20000 else rng.sample(records, 20000)
    for record in sample:
        df.update({w.lower() for w in WORD.findall(text_of(record))})
    words = [w for w, n in df.most_common() if w not in STOP]
    frequent = words[:300]
    rare = [w for w in words if 2 <= df[w] <= 5] or words[-300:]
    accented = [w for w in words[:3000] if not w.isascii()] or frequent

    def passage(length: int) -> str:
        for _ in range(50):
            found = [w for w in WORD.findall(text_of(rng.choice(sample)))
                     if w.lower() not in STOP]
            if len(found) >= length:
                start = rng.randrange(len(found) - length + 1)
                return " ".join(found[start:start + length]).lower()
        return " ".join(rng.sample(frequent, length))

    makers = [
        ("frequent", lambda: rng.choice(frequent)),
        ("rare", lambda: rng.choice(rare)),
        ("two_words", lambda: passage(2)),
        ("three_words", lambda: passage(3)),
        ("phrase", lambda: f'"{passage(2)}"'),
        ("unaccented", lambda: unidecode(rng.choice(accented))),
        ("capitals", lambda: rng.choice(accented).upper()),
        ("question", lambda: rng.choice(QUESTIONS).format(rng.choice(frequent[:100]))),
    ]
    fresh = count - int(count * repeat)
    queries = []
    for n in range(fresh):
        kind, make = makers[n % len(makers)]
        queries.append({"kind": kind, "text": make()})
    while len(queries) < count:
        queries.append({**rng.choice(queries[:fresh]), "repeat": "yes"})
    rng.shuffle(queries)
    return queries
