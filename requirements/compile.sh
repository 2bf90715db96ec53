#!/usr/bin/env sh
# Regenerates the pinned, hashed locks from pyproject.toml's ranges (one per install: the
# base and each extra). Pass --upgrade to move every pin to the newest version the ranges
# allow; without it, pins are kept where they still satisfy the ranges.
set -eu
cd "$(dirname "$0")/.."
for extra in base test s3 bench; do
    if [ "$extra" = base ]; then flag=""; else flag="--extra $extra"; fi
    python -m uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes \
        --quiet $flag "$@" --custom-compile-command "sh requirements/compile.sh" \
        -o "requirements/$extra.lock"
done
