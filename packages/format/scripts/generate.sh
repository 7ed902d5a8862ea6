#!/bin/sh
# Regenerates src/generated/ from schemas/hnet.fbs with flatc (Debian: flatbuffers-compiler).
# With --check, generates into a temporary folder and fails if the committed code differs.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
schema="$here/../../schemas/hnet.fbs"
if ! command -v flatc >/dev/null 2>&1; then
  echo "generate: flatc not found; install it with: apt-get install -y flatbuffers-compiler" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
flatc --ts --ts-flat-files -o "$tmp" "$schema"
if [ "${1:-}" = "--check" ]; then
  if ! diff -u "$here/src/generated/hnet_generated.ts" "$tmp/hnet_generated.ts"; then
    echo "generate: src/generated/hnet_generated.ts is out of date with schemas/hnet.fbs; run: npm run generate -w @hnet/format" >&2
    exit 1
  fi
  echo "generate: src/generated/hnet_generated.ts matches schemas/hnet.fbs ($(flatc --version))"
else
  cp "$tmp/hnet_generated.ts" "$here/src/generated/hnet_generated.ts"
  echo "generate: wrote src/generated/hnet_generated.ts ($(flatc --version))"
fi
