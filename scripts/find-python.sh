#!/usr/bin/env bash
# Prints the path of a working `pythonX.Y` (argument: X.Y), or exits 1 if there is none.
# A pyenv shim on PATH is not enough: it fails unless that version is selected, so versions
# pyenv has installed but not selected are looked up in its versions/ folder directly.
set -u
version="${1:?usage: find-python.sh X.Y}"
works() { "$1" -c "" >/dev/null 2>&1; }
if command -v "python$version" >/dev/null 2>&1 && works "python$version"; then
    command -v "python$version"
    exit 0
fi
if command -v pyenv >/dev/null 2>&1; then
    root="$(pyenv root)"
    for dir in $(ls -d "$root/versions/$version".* 2>/dev/null | sort -V -r); do
        if [ -x "$dir/bin/python$version" ] && works "$dir/bin/python$version"; then
            echo "$dir/bin/python$version"
            exit 0
        fi
    done
fi
exit 1
