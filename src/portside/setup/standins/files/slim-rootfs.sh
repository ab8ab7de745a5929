#!/bin/sh
# mmdebstrap customize hook: make the root file system in "$1" slim, like the
# official debian:*-slim images. Removes what dpkg-slim.cfg would have kept dpkg
# from installing (mmdebstrap unpacks the first packages without dpkg), and the
# host's resolv.conf and hostname that mmdebstrap copied in for the build.
set -eu
cd "$1"
if [ -d usr/share/doc ]; then
    find usr/share/doc -mindepth 1 ! -type d ! -name copyright -delete
    find usr/share/doc -mindepth 1 -type d -empty -delete
fi
rm -rf usr/share/man/* usr/share/groff/* usr/share/info/* usr/share/lintian/* usr/share/linda/*
if [ -d usr/share/locale ]; then
    find usr/share/locale -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
fi
rm -f etc/resolv.conf etc/hostname
