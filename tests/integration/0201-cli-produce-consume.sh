#!/usr/bin/env bash
# 0201: seglog produce and consume offline (-d DIR): delimiters, keys,
# headers, partitioner, kcat format tokens and modifiers, -o start points,
# -e, -c, following a growing partition, `| head` ending quietly, the
# writer lock (exit 4, nothing written), help and usage errors.
set -euo pipefail
: "${SEGLOG_BUILD:?SEGLOG_BUILD must point at the build directory}"
S="$SEGLOG_BUILD/kcat-tools/seglog"
[ -x "$S" ] || { echo "FAIL: $S is not built" >&2; exit 1; }
tmp=$(mktemp -d)
bg=
trap '[ -n "$bg" ] && kill "$bg" 2>/dev/null; rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
expect() { # expect NAME EXPECTED ACTUAL
  if [ "$2" != "$3" ]; then
    printf 'FAIL: %s\n--- expected\n%s\n--- actual\n%s\n' "$1" "$2" "$3" >&2
    exit 1
  fi
}
d="$tmp/logs"

# --- help, usage ---
"$S" help | grep -q '^  consume ' || fail "help lists consume"
"$S" consume --help | grep -q -- '-o OFFSET' || fail "consume --help"
set +e
"$S" nosuch 2>/dev/null; rc=$?
"$S" consume -t x 2>/dev/null; rc2=$?
"$S" consume -d "$d" -t x -f '%q' 2>"$tmp/err"; rc3=$?
set -e
expect "unknown command exit" 2 "$rc"
expect "missing -d exit" 2 "$rc2"
expect "bad format exit" 2 "$rc3"
grep -q "unknown format token '%q'" "$tmp/err" || fail "bad format message: $(cat "$tmp/err")"

# --- lines, keys, headers, fixed timestamp ---
printf 'a\nb\n\nc' | "$S" produce -d "$d" -t t -T 1700000000000
printf 'k1:v1\nk2:v2\n' | "$S" produce -d "$d" -t t -K: -H h1=x -H h2= -T 1700000000005
out=$("$S" consume -d "$d" -t t -e -f '%t/%p/%o %K:%k %S:%s [%h] %T %iT\n')
expect "formats" "t/0/0 -1: 1:a [] 1700000000000 2023-11-14T22:13:20.000Z
t/0/1 -1: 1:b [] 1700000000000 2023-11-14T22:13:20.000Z
t/0/2 -1: 0: [] 1700000000000 2023-11-14T22:13:20.000Z
t/0/3 -1: 1:c [] 1700000000000 2023-11-14T22:13:20.000Z
t/0/4 2:k1 2:v1 [h1=x,h2=] 1700000000005 2023-11-14T22:13:20.005Z
t/0/5 2:k2 2:v2 [h1=x,h2=] 1700000000005 2023-11-14T22:13:20.005Z" "$out"
expect "default format" "$(printf 'a\nb\n\nc\nv1\nv2')" "$("$S" consume -d "$d" -t t -e)"
expect "-K and -Z" "NULL|a
k2|v2" "$("$S" consume -d "$d" -t t -e -Z -K '|' -o 0 -c 1; "$S" consume -d "$d" -t t -e -K '|' -o -1)"
expect "hex/base64" "6b31 djE= aDE==eA==,aDI==" \
  "$("$S" consume -d "$d" -t t -e -o 4 -c 1 -f '%xk %bs %bh\n')"

# -o: absolute, relative, time
expect "-o 3 -c 2" "c
v1" "$("$S" consume -d "$d" -t t -e -o 3 -c 2)"
expect "-o -2" "v1
v2" "$("$S" consume -d "$d" -t t -e -o -2)"
expect "-o end -e" "" "$("$S" consume -d "$d" -t t -e -o end)"
expect "-o s@" "v1
v2" "$("$S" consume -d "$d" -t t -e -o s@1700000000003)"
expect "-o e@" "a
b

c" "$("$S" consume -d "$d" -t t -o e@1700000000003)"

# --- -D delimiter, whole files, -l ---
printf 'x1;x2;x3' | "$S" produce -d "$d" -t semi -D ';'
expect "-D" "x1 x2 x3 " "$("$S" consume -d "$d" -t semi -e -D ' ')"
printf 'line1\nline2\n' > "$tmp/f1"
printf '\000\001\002' > "$tmp/f2"
"$S" produce -d "$d" -t files "$tmp/f1" "$tmp/f2"
expect "whole files" "$(printf 'line1\nline2\n' | od -An -tx1)
$(printf '\000\001\002' | od -An -tx1)" \
  "$("$S" consume -d "$d" -t files -e -f '%s' -c 1 | od -An -tx1)
$("$S" consume -d "$d" -t files -e -o 1 -f '%s' | od -An -tx1)"
printf 'p\nq\n' > "$tmp/list"
"$S" produce -d "$d" -t listed -l "$tmp/list"
expect "-l" "p
q" "$("$S" consume -d "$d" -t listed -e)"

# --- partitioner: keys land where Kafka's murmur2 puts them ---
printf 'a\n' | "$S" produce -d "$d" -t parts --partitions 4 -p 0
printf '21:x\nfoobar:y\nabc:z\n' | "$S" produce -d "$d" -t parts -K:
# murmur2 (kafka-python's implementation): "21" -> 0, "foobar" -> 2, "abc" -> 3
expect "partitions" "0 21
2 foobar
3 abc" "$(for p in 0 1 2 3; do "$S" consume -d "$d" -t parts -p $p -e -f "$p %k\n"; done | grep -v '^0 $' | sort)"
# keyless records stick to one partition per batch
seq 1 100 | "$S" produce -d "$d" -t sticky --partitions 3
n=$(for p in 0 1 2; do "$S" consume -d "$d" -t sticky -p $p -e | wc -l; done | grep -c '^100$')
expect "sticky keyless batch" 1 "$n"

# --- codecs ---
for z in gzip snappy lz4 zstd; do
  seq 1 1000 | "$S" produce -d "$d" -t "z-$z" -z "$z"
  expect "codec $z" "$(seq 1 1000)" "$("$S" consume -d "$d" -t "z-$z" -e)"
done

# --- | head ends quietly ---
seq 1 200000 | "$S" produce -d "$d" -t many
set +e
"$S" consume -d "$d" -t many -e 2>"$tmp/err" | head -3 >"$tmp/out"
status=("${PIPESTATUS[@]}")
set -e
expect "head output" "$(seq 1 3)" "$(cat "$tmp/out")"
expect "consume | head exit" 0 "${status[0]}"
[ ! -s "$tmp/err" ] || fail "consume | head printed: $(cat "$tmp/err")"
# writing to a full device is an error
if [ -w /dev/full ]; then
  set +e
  "$S" consume -d "$d" -t many -e >/dev/full 2>"$tmp/err"; rc=$?
  set -e
  expect "/dev/full exit" 1 "$rc"
  grep -q "No space" "$tmp/err" || fail "/dev/full message: $(cat "$tmp/err")"
fi

# --- follow mode: a running consumer sees records appended later ---
printf 'f0\n' | "$S" produce -d "$d" -t follow
"$S" consume -d "$d" -t follow -c 3 >"$tmp/follow" &
bg=$!
sleep 0.3
printf 'f1\n' | "$S" produce -d "$d" -t follow
sleep 0.3
printf 'f2\n' | "$S" produce -d "$d" -t follow
for _ in $(seq 1 100); do kill -0 "$bg" 2>/dev/null || break; sleep 0.1; done
wait "$bg" || fail "follow consumer failed"
bg=
expect "follow" "f0
f1
f2" "$(cat "$tmp/follow")"

# --- the writer lock: another writer holds it -> exit 4, nothing written ---
before=$("$S" offsets -d "$d" -t t)
/usr/bin/python3 - "$d" "$S" <<'PY'
import fcntl, os, subprocess, sys
d, s = sys.argv[1], sys.argv[2]
fd = os.open(os.path.join(d, ".lock"), os.O_RDWR | os.O_CREAT)
fcntl.lockf(fd, fcntl.LOCK_EX)          # a POSIX lock, as Kafka's broker takes
p = subprocess.run([s, "produce", "-d", d, "-t", "t"], input=b"zzz\n",
                   capture_output=True)
if p.returncode != 4 or b"another writer" not in p.stderr:
    print("FAIL: locked produce: rc=%d err=%r" % (p.returncode, p.stderr)); sys.exit(1)
p = subprocess.run([s, "consume", "-d", d, "-t", "t", "-e", "-o", "-1"], capture_output=True)
if p.returncode != 0 or p.stdout != b"v2\n":
    print("FAIL: reading while locked: %r %r" % (p.stdout, p.stderr)); sys.exit(1)
PY
expect "nothing written while locked" "$before" "$("$S" offsets -d "$d" -t t)"

# --- missing topic / partition ---
set +e
"$S" consume -d "$d" -t nosuch -e 2>"$tmp/err"; rc=$?
set -e
expect "missing topic exit" 1 "$rc"
grep -q "no topic 'nosuch'" "$tmp/err" || fail "missing topic message"
echo "0201: ok"
