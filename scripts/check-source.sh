#!/usr/bin/env bash
# Source checks that run in `make test`: banned C calls (as curl bans them) and
# clang-format conformance of hand-written C files.
set -euo pipefail
cd "$(dirname "$0")/.."
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find format brokerd kcat-tools fuse mirror tests bench -name '*.[ch]')
status=0
banned='\b(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|atoll|sscanf|strtok|tmpnam|mktemp)\s*\('
hits=$(printf '%s\n' $files | xargs -r grep -nE "$banned" 2>/dev/null || true)
if [ -n "$hits" ]; then
  echo "banned calls (use snprintf, strtol/strtoll with checks, memcpy with lengths):" >&2
  echo "$hits" >&2
  status=1
fi
if command -v clang-format >/dev/null; then
  for f in $files; do
    case "$f" in */gen/*) continue ;; esac
    if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
      echo "clang-format: $f needs formatting (make format)" >&2
      status=1
    fi
  done
fi
exit $status
