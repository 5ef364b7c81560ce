"""Benchmark queries, generated reproducibly (fixed seed) from the corpus itself.

300 queries by default, in the mix readers type: frequent single words, rare words, two
and three words, quoted phrases, accented words typed without accents or in capitals, and
question-like queries; 20 % of them repeat earlier ones (readers search the same news),
so the result cache is measured as it is used. `generate_questions` makes questions
shaped like the PIAF ones (« Quand est mort le père de Roger ? »): an interrogative and
a few words of one sentence of the corpus, as typed, ending with « ? ».
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
    # Ties in order of the word, not of set iteration (which follows PYTHONHASHSEED): every
    # process draws the same stream.
    words = [w for w, n in sorted(df.items(), key=lambda item: (-item[1], item[0]))
             if w not in STOP]
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


RARE_WORD = re.compile(r"[^\W\d_]{5,}")
ALL_WORDS = re.compile(r"[^\W\d_]+")


def generate_rare(records: list[dict[str, Any]], count: int = 150, seed: int = 11
                  ) -> list[dict[str, str]]:
    """`count` queries where frequent words are absent: rarer words (5+ letters, in 2 to
    50 of the sampled articles), two such words from one article, and two-word phrases."""
    rng = random.Random(seed)
    sample = records if len(records) <= 20000 else rng.sample(records, 20000)
    df: Counter[str] = Counter()
    for record in sample:
        df.update({w.lower() for w in RARE_WORD.findall(text_of(record))})
    rare = sorted(w for w, n in df.items() if 2 <= n <= 50 and w not in STOP)

    def rare_words_of_an_article(length: int) -> list[str]:
        for _ in range(200):
            found = [w.lower() for w in RARE_WORD.findall(text_of(rng.choice(sample)))]
            picked = [w for w in dict.fromkeys(found) if 2 <= df[w] <= 50 and w not in STOP]
            if len(picked) >= length:
                return rng.sample(picked, length)
        return rng.sample(rare, length)

    def phrase() -> str:
        for _ in range(200):
            found = [w.lower() for w in ALL_WORDS.findall(text_of(rng.choice(sample)))]
            pairs = [(a, b) for a, b in zip(found, found[1:], strict=False)  # consecutive
                     if len(a) >= 5 and len(b) >= 4 and a not in STOP and b not in STOP
                     and df[a] <= 200]
            if pairs:
                return '"{} {}"'.format(*rng.choice(pairs))
        return '"{} {}"'.format(*rng.sample(rare, 2))

    makers = [
        ("rare_word", lambda: rng.choice(rare)),
        ("rare_pair", lambda: " ".join(rare_words_of_an_article(2))),
        ("two_word_phrase", phrase),
    ]
    return [{"kind": makers[n % 3][0], "text": makers[n % 3][1]()} for n in range(count)]


SENTENCE = re.compile(r"[^.!?;:\n]+")
TOKEN = re.compile(r"[^\s\"«»()\[\],]+")
# How PIAF questions open (the 20 most frequent openings of the development set, grouped).
OPENERS = ("Quel est", "Quelle est", "Quels sont les", "Qui", "Quand", "Comment",
           "Combien de", "Où", "Pourquoi", "Dans quel", "De quelle", "Qu'est-ce que",
           "À qui", "En quelle année", "Que")


def generate_questions(records: list[dict[str, Any]], count: int = 100, seed: int = 13
                       ) -> list[dict[str, str]]:
    """`count` questions: an opener, then 3 to 8 consecutive words of a sentence of the
    corpus (names, numbers and small words as written), then « ? »."""
    rng = random.Random(seed)
    sample = records if len(records) <= 20000 else rng.sample(records, 20000)
    questions = []
    while len(questions) < count:
        sentences = [t for t in (m.group().split() for m in SENTENCE.finditer(
            text_of(rng.choice(sample)))) if len(t) >= 6]
        if not sentences:
            continue
        words = [w for w in rng.choice(sentences) if TOKEN.fullmatch(w)]
        length = min(rng.randint(3, 8), len(words))
        start = rng.randrange(len(words) - length + 1)
        found = " ".join(words[start:start + length]).strip("-'’")
        if len(WORD.findall(found)) >= 2:
            questions.append({"kind": "question", "text": f"{rng.choice(OPENERS)} {found} ?"})
    return questions
