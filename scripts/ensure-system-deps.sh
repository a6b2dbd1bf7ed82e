#!/usr/bin/env bash
# Installs the Debian packages guidekb's charts and the studio's browser test use, when they are missing and we can:
#   graphviz      -> `dot`: SVG, PNG, PDF and HTML flowcharts
#   poppler-utils -> `pdfunite`, `pdftotext`: the handout PDF and its test
#   chromium, chromium-driver -> the headless browser the studio's end-to-end test drives
# Never fails the build: without them, DOT, Mermaid and Markdown output still work, the
# commands that need them say how to install them, and their tests skip with that reason
# (tests/test_studio_browser.py among them).
set -u
missing=()
command -v dot >/dev/null 2>&1 || missing+=(graphviz)
command -v pdfunite >/dev/null 2>&1 || missing+=(poppler-utils)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
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
    echo "         the handout needs poppler-utils; the studio's browser test needs chromium and"
    echo "         chromium-driver (it skips without them): sudo apt-get install ${missing[*]}"
} >&2
exit 0
