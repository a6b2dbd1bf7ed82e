#!/usr/bin/env bash
# Re-renders the charts shown in docs/educators.md and the README from the default knowledge base.
# Run after changing the rules: .venv/bin/guidekb must exist and graphviz `dot` be installed.
set -euo pipefail
cd "$(dirname "$0")/.."
G=.venv/bin/guidekb
OUT=docs/img
CASE=knowledge/hsv-resistance/cases/confirmed-resistance.yaml
mkdir -p "$OUT"
$G flowchart --view overview --format svg -o "$OUT/overview.svg" --force
$G flowchart --view overview --format png -o "$OUT/overview.png" --force
$G flowchart --view decisions --format svg -o "$OUT/decisions.svg" --force
$G flowchart --view decisions --format png --dpi 48 -o "$OUT/decisions.png" --force
$G flowchart --view decisions --focus obtain_culture_susceptibility --format svg -o "$OUT/decisions-culture.svg" --force
$G flowchart --view decisions --focus obtain_culture_susceptibility --format png -o "$OUT/decisions-culture.png" --force
# the patient's path through the treatment chart (found by its advice, not its number)
TREAT=$($G flowchart --list --format json | .venv/bin/python -c \
  'import json, sys; print(next(c["number"] for c in json.load(sys.stdin)["charts"] if any(a["code"] == "iv_foscarnet" for a in c["advice"])))')
$G flowchart --chart "$TREAT" --case "$CASE" --format svg -o "$OUT/patient-path-treatment.svg" --force
$G flowchart --chart "$TREAT" --case "$CASE" --format png -o "$OUT/patient-path-treatment.png" --force
$G flowchart --view rules --format svg -o "$OUT/rules.svg" --force
$G flowchart --view rules --format png -o "$OUT/rules.png" --force
$G flowchart --view rules --focus iv_foscarnet --format svg -o "$OUT/rules-iv_foscarnet.svg" --force
$G flowchart --view rules --focus iv_foscarnet --format png -o "$OUT/rules-iv_foscarnet.png" --force
