#!/bin/sh
# The official registry:2 entrypoint: a config file argument means "serve it",
# a registry sub-command gets the binary in front, anything else runs as given.
set -e

case "$1" in
    *.yaml|*.yml) set -- registry serve "$@" ;;
    serve|garbage-collect|help|-*) set -- registry "$@" ;;
esac

exec "$@"
