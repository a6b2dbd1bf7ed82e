#!/usr/bin/env bash
# Re-renders the charts shown in docs/educators.md from the default knowledge base.
# Run after changing the rules: .venv/bin/guidekb must exist and graphviz `dot` be installed.
set -euo pipefail
cd "$(dirname "$0")/.."
G=.venv/bin/guidekb
OUT=docs/img
mkdir -p "$OUT"
$G flowchart --view decisions --format svg -o "$OUT/decisions.svg"
$G flowchart --view decisions --format png --dpi 48 -o "$OUT/decisions.png"
$G flowchart --view decisions --focus iv_foscarnet --format svg -o "$OUT/decisions-iv_foscarnet.svg"
$G flowchart --view decisions --focus iv_foscarnet --format png -o "$OUT/decisions-iv_foscarnet.png"
$G flowchart --view rules --format svg -o "$OUT/rules.svg"
$G flowchart --view rules --format png -o "$OUT/rules.png"
$G flowchart --view rules --focus iv_foscarnet --format svg -o "$OUT/rules-iv_foscarnet.svg"
$G flowchart --view rules --focus iv_foscarnet --format png -o "$OUT/rules-iv_foscarnet.png"
