#!/bin/sh
# mmdebstrap customize hook: make Debian's Python in "$1" behave like the official
# python image: `pip install` works without --break-system-packages, and python,
# python3, pip and pip3 are found first in /usr/local/bin.
set -eu
cd "$1"
rm -f usr/lib/python3.*/EXTERNALLY-MANAGED
mkdir -p usr/local/bin
for name in python python3 python3.11; do ln -sf /usr/bin/python3 "usr/local/bin/$name"; done
for name in pip pip3 pip3.11; do ln -sf /usr/bin/pip3 "usr/local/bin/$name"; done
