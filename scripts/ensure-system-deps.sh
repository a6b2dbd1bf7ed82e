#!/usr/bin/env bash
# Installs the Debian packages guidekb's charts use, when they are missing and we can:
#   graphviz      -> `dot`: SVG, PNG, PDF and HTML flowcharts
#   poppler-utils -> `pdfunite`, `pdftotext`: the handout PDF and its test
# Never fails the build: without them, DOT, Mermaid and Markdown output still work, the
# commands that need them say how to install them, and their tests skip with that reason.
set -u
missing=()
command -v dot >/dev/null 2>&1 || missing+=(graphviz)
command -v pdfunite >/dev/null 2>&1 || missing+=(poppler-utils)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's ${missing[*]}..."
    if { apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
         || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1; }; }; then
        echo "installed: ${missing[*]}"
        exit 0
    fi
fi
{
    echo "warning: Debian's ${missing[*]} missing and could not be installed here."
    echo "         DOT, Mermaid and Markdown charts still work; SVG/PNG/PDF/HTML need graphviz and"
    echo "         the handout needs poppler-utils: sudo apt-get install ${missing[*]}"
} >&2
exit 0
