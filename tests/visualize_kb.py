"""A small synthetic knowledge base for the visualize tests, written into a folder.

It uses every construct the decision diagram must get right (enum, boolean, integer
thresholds, list items, known/unknown, not, any/all, a chain of conclusions, a prohibition
overriding a recommendation, an unconditional rule) without depending on the HSV rules.
`hostile=True` puts markup, quotes, braces, backslashes and newlines in every piece of text
that is not checked against the source (titles, outcome texts, questions, KB title).
"""

from __future__ import annotations

from pathlib import Path

import yaml

HOSTILE = 'Evil <script>alert("x")</script> {brace} [bracket] |pipe| `tick` \\N & \'q\'\nnext line #35;'

SOURCE = """Toy guideline

Assessment
Give drug A when the score is 10 or more.
Give drug B to adults who are not pregnant.
Escalation
Escalate when drug A is indicated and the patient is frail.
Do not give drug B when escalating.
Lists
Check allergies when penicillin is listed.
Never use drug Z.
Ask about the score when it is missing.
"""


def write_kb(root: Path, hostile: bool = False) -> Path:
    """Write the toy knowledge base into `root` and return it."""
    h = (lambda s: f"{s} {HOSTILE}") if hostile else (lambda s: s)
    (root / "rules").mkdir(parents=True)
    (root / "sources").mkdir()
    (root / "sources" / "toy.txt").write_text(SOURCE)
    manifest = {
        "id": "toy", "title": h("Toy guideline"), "version": "1.0", "authors": ["tests"],
        "sources": [{"id": "toy", "title": h("Toy"), "publisher": "tests", "date": "2025-01-01",
                     "file": "sources/toy.txt", "sections": ["Assessment", "Escalation", "Lists"]}],
        "flowchart": {"question_order": ["score", "adult"]},
    }
    facts = {"facts": {
        "score": {"type": "integer", "min": 0, "max": 20, "description": h("Score"), "question": h("Score?")},
        "adult": {"type": "boolean", "description": "Adult", "question": h("Adult?")},
        "pregnancy": {"type": "enum", "values": ["pregnant", "not_pregnant"], "description": "Pregnancy"},
        "frailty": {"type": "enum", "values": ["frail", "fit", "unclear"], "description": "Frailty",
                    "question": h("Frail?")},
        "allergies": {"type": "enum_list", "values": ["penicillin", "latex", "nuts"],
                      "description": "Allergies", "question": h("Allergies?")},
        "unused": {"type": "boolean", "description": "No rule reads this"},
        "drug_a_indicated": {"type": "boolean", "derived": True, "description": "A indicated"},
        "escalate": {"type": "boolean", "derived": True, "description": "Escalate"},
    }}
    outcomes = {"outcomes": {code: {"text": h(text)} for code, text in {
        "drug_a": "Drug A", "drug_b": "Drug B", "escalation": "Escalate care",
        "check_allergies": "Check allergies", "drug_z": "Drug Z", "ask_score": "Ask the score",
    }.items()}}

    def prov(section: str, quote: str) -> list[dict[str, object]]:
        return [{"source": "toy", "section": section, "quote": quote}]

    rules = {"rules": [
        {"id": "a-when-high-score", "title": h("A for high scores"),
         "when": {"fact": "score", "ge": 10},
         "then": {"derive": ["drug_a_indicated"], "recommend": ["drug_a"]},
         "provenance": prov("Assessment", "Give drug A when the score is 10 or more.")},
        {"id": "b-for-adults", "title": h("B for adults"),
         "when": {"all": [{"fact": "adult", "equals": True},
                          {"not": {"fact": "pregnancy", "equals": "pregnant"}}]},
         "then": {"recommend": ["drug_b"]},
         "provenance": prov("Assessment", "Give drug B to adults who are not pregnant.")},
        {"id": "escalate-frail", "title": h("Escalate frail patients on A"),
         "when": {"all": [{"fact": "drug_a_indicated", "equals": True},
                          {"any": [{"fact": "frailty", "equals": "frail"}, {"unknown": "frailty"}]}]},
         "then": {"derive": ["escalate"], "recommend": ["escalation"]},
         "provenance": prov("Escalation", "Escalate when drug A is indicated and the patient is frail.")},
        {"id": "no-b-when-escalating", "title": h("No B when escalating"),
         "when": {"known": "escalate"},
         "then": {"forbid": [{"code": "drug_b", "reason": h("Interaction")}]},
         "provenance": prov("Escalation", "Do not give drug B when escalating.")},
        {"id": "allergy-check", "title": h("Allergy check"),
         "when": {"any": [{"fact": "allergies", "contains": "penicillin"},
                          {"all": [{"not": {"fact": "allergies", "contains": "latex"}},
                                   {"fact": "score", "lt": 3}]}]},
         "then": {"recommend": ["check_allergies"]},
         "provenance": prov("Lists", "Check allergies when penicillin is listed.")},
        {"id": "never-z", "title": h("Never Z"), "when": {"always": True},
         "then": {"forbid": [{"code": "drug_z", "reason": "Never"}]},
         "provenance": prov("Lists", "Never use drug Z.")},
        {"id": "ask-score", "title": h("Ask the score"),
         "when": {"all": [{"unknown": "score"}, {"known": "allergies"}]},
         "then": {"recommend": ["ask_score"]},
         "provenance": prov("Lists", "Ask about the score when it is missing.")},
        {"id": "impossible", "title": h("Contradiction"),
         "when": {"all": [{"fact": "score", "lt": 5}, {"fact": "score", "gt": 15}]},
         "then": {"recommend": ["drug_a"]},
         "provenance": prov("Assessment", "Give drug A when the score is 10 or more.")},
    ]}
    for name, data in [("manifest.yaml", manifest), ("facts.yaml", facts), ("outcomes.yaml", outcomes)]:
        (root / name).write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    (root / "rules" / "rules.yaml").write_text(yaml.safe_dump(rules, sort_keys=False, allow_unicode=True))
    return root
