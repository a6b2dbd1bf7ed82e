#!/usr/bin/env bash
# Installs Debian's graphviz (the `dot` binary) when it is missing and we can.
# Never fails the build: without `dot`, DOT and Mermaid output still work.
set -u
if command -v dot >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's graphviz (for the dot binary)..."
    if { apt-get install -y -qq graphviz >/dev/null 2>&1 \
         || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq graphviz >/dev/null 2>&1; }; }; then
        echo "graphviz installed: $(dot -V 2>&1)"
        exit 0
    fi
fi
{
    echo "warning: the graphviz \`dot\` binary is missing and could not be installed here."
    echo "         DOT and Mermaid output still work; SVG, PNG, PDF and HTML flowcharts need it:"
    echo "         run \`sudo apt-get install graphviz\` (Debian/Ubuntu) or \`brew install graphviz\`."
} >&2
exit 0
