"""A fixed-seed generator of short French news dispatches, for the load and disk-full tests.

Every dispatch is a JSON Lines record with accents, elisions, a section, an author and a
date. A chosen share of them carries the word PROBE (found in no other dispatch), so a test
knows exactly how many articles a search for it must count in each state of the sources.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

PROBE = "funiculaire"  # in no word list below: only probe dispatches match it

CITIES = ["Rennes", "Besançon", "Sète", "Hyères", "Brest", "Lyon", "Nîmes", "Orléans",
          "Évreux", "Angoulême", "Saint-Étienne", "Valence", "Épinal", "Périgueux"]
SECTIONS = ["Politique", "Économie", "Société", "Culture", "Sport", "Environnement"]
AUTHORS = ["Léa Moreau", "Karim Benali", "Zoë Martin", "Hélène Dubois", "Jérôme Petit",
           "Inès Faure"]
SUBJECTS = ["le conseil municipal", "la préfète", "l’intersyndicale", "le club", "la mairie",
            "l’association des riverains", "le département", "la région", "l’université",
            "la chambre d’agriculture", "le tribunal administratif", "l’hôpital"]
VERBS = ["a voté", "a présenté", "a rejeté", "a annoncé", "a défendu", "a reporté",
         "a critiqué", "a adopté", "a signé", "a suspendu"]
OBJECTS = ["le budget primitif", "un plan d’économies", "la rénovation des écoles",
           "un nouveau réseau de bus", "la réforme des retraites", "la fermeture d’une usine",
           "un festival d’été", "la hausse des loyers", "un projet d’éolien en mer",
           "la grève des cheminots", "la sécheresse", "la piste cyclable"]
DETAILS = ["après un long débat", "malgré l’opposition", "à l’unanimité", "dès la rentrée",
           "pour la troisième fois", "sous les applaudissements", "en fin de séance",
           "avant l’hiver", "sans surprise", "au grand dam des commerçants"]


@dataclass
class Dispatch:
    """One generated article; `probe` says whether its text holds PROBE."""

    id: str
    probe: bool
    revision: int = 0

    def record(self) -> dict[str, object]:
        rng = random.Random(f"{self.id}/{self.revision}")
        city = rng.choice(CITIES)

        def sentence() -> str:
            return (f"À {rng.choice(CITIES)}, {rng.choice(SUBJECTS)} {rng.choice(VERBS)} "
                    f"{rng.choice(OBJECTS)} {rng.choice(DETAILS)}.")

        paragraphs = [" ".join(sentence() for _ in range(rng.randint(2, 4)))
                      for _ in range(rng.randint(2, 3))]
        if self.probe:
            paragraphs[-1] += f" Le {PROBE} de {city} reste fermé."
        if self.revision:
            paragraphs.append(f"Mise à jour numéro {self.revision}.")
        return {
            "id": self.id,
            "title": f"{city} : {rng.choice(SUBJECTS)} {rng.choice(VERBS)} "
                     f"{rng.choice(OBJECTS)}",
            "lead": sentence(),
            "body": "\n\n".join(paragraphs),
            "published": f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T"
                         f"{rng.randint(6, 22):02d}:{rng.randint(0, 59):02d}:00+01:00",
            "section": rng.choice(SECTIONS),
            "authors": [rng.choice(AUTHORS)],
        }


def dispatches(rng: random.Random, start: int, count: int, *, probe_share: float = 0.3
               ) -> list[Dispatch]:
    """`count` dispatches numbered from `start`, each holding PROBE with `probe_share`."""
    return [Dispatch(f"d{n:05d}", rng.random() < probe_share) for n in range(start, start + count)]


def write_jsonl(path: Path, items: Iterable[Dispatch]) -> None:
    """Write dispatches as one JSON object a line (UTF-8, accents as they are)."""
    path.write_text("".join(json.dumps(d.record(), ensure_ascii=False) + "\n" for d in items),
                    encoding="utf-8")


def probe_total(files: dict[str, list[Dispatch]]) -> int:
    """How many dispatches of these files a search for PROBE finds."""
    return sum(d.probe for items in files.values() for d in items)
