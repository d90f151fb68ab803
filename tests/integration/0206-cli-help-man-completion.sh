#!/usr/bin/env bash
# 0206: the help text, the man page (docs/seglog.1) and the bash completion
# (scripts/seglog-completion.bash) agree: every command `seglog help` lists is
# documented and completed, every option of `seglog CMD --help` is in the man
# page and the completion, and the man page renders without warnings.
set -euo pipefail
: "${SEGLOG_BUILD:?SEGLOG_BUILD must point at the build directory}"
: "${SEGLOG_SRC:?SEGLOG_SRC must point at the source tree}"
S="$SEGLOG_BUILD/kcat-tools/seglog"
[ -x "$S" ] || { echo "FAIL: $S is not built" >&2; exit 1; }
man1="$SEGLOG_SRC/docs/seglog.1"
comp="$SEGLOG_SRC/scripts/seglog-completion.bash"
fail() { echo "FAIL: $*" >&2; exit 1; }
# shellcheck disable=SC1090
source "$comp"
complete_words() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _seglog; echo "${COMPREPLY[*]}"; }

cmds=$("$S" help | sed -n 's/^  \([a-z]*\) .*/\1/p')
[ -n "$cmds" ] || fail "seglog help lists no commands"
for c in $cmds; do
  grep -q "^\.B seglog $c\$" "$man1" || fail "man page lacks $c"
  complete_words seglog "${c:0:3}" | grep -qw "$c" || fail "completion lacks $c"
  "$S" "$c" --help >/dev/null || fail "$c --help"
  [ "$c" = help ] && continue
  for opt in $("$S" "$c" --help | sed -n 's/^  \(-[a-zA-Z]\|--[a-z-]*\)[ =].*/\1/p' | sort -u); do
    [ "$opt" = --help ] && continue
    esc=$(printf '%s' "$opt" | sed 's/-/\\\\-/g')
    grep -q -- "$esc\|$opt" "$man1" || fail "man page lacks $c $opt"
    case "$c" in topics | perf) continue ;; esac
    complete_words seglog "$c" - | grep -q -- "$opt" || fail "completion lacks $c $opt"
  done
done
if command -v man >/dev/null; then
  w=$(MANWIDTH=80 man --warnings -l "$man1" 2>&1 >/dev/null || true)
  [ -z "$w" ] || fail "man warnings: $w"
fi
echo "0206: ok"
