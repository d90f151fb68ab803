#!/usr/bin/env bash
# 0306: topics through seglogfs broker mode: mkdir creates a topic (the
# broker's num.partitions, or -o partitions=N) that kcat -L then lists and
# the mount shows at once; mkdir of an existing topic is EEXIST, of a bad
# name EINVAL, inside a topic EACCES; rmdir is refused (EPERM, topic kept)
# without -o allow_delete and deletes the topic with it; SIGTERM unmounts.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/broker.sh"
. "$here/lib/fuse_broker.sh"
command -v kcat >/dev/null || { echo "SKIP: kcat is not installed"; exit 77; }
fuse_init

broker_start "$T/broker.log" --override num.partitions=3
B="127.0.0.1:$PORT"
timeout 30 kcat -b "$B" -P -t keep <<<"x" || fuse_fail "kcat -P"
M=$T/mnt
L() { timeout 30 kcat -b "$B" -L -J | jq -r --arg t "$1" '.topics[] | select(.topic == $t) | .partitions | length'; }

fuse_mount "$M" "$T/fs.log" -b "$B"
mkdir "$M/made" || fuse_fail "mkdir"
[ "$(L made)" = 3 ] || fuse_fail "kcat -L: made has '$(L made)' partitions"
[ "$(ls "$M/made")" = "$(printf '0\n1\n2\nconfig')" ] || fuse_fail "ls made: $(ls "$M/made")"
[ -d "$M/made" ] || fuse_fail "made is not a directory"
echo "into new" >>"$M/made/2/data" || fuse_fail "append to the new topic"
[ "$(timeout 30 kcat -b "$B" -C -t made -p 2 -e -q)" = "into new" ] || fuse_fail "kcat reads the new topic"
[ "$(fuse_errno mkdir "$M/made")" = "File exists" ] || fuse_fail "mkdir existing: $(fuse_errno mkdir "$M/made")"
[ "$(fuse_errno mkdir "$M/bad*name")" = "Invalid argument" ] || fuse_fail "mkdir bad name: $(fuse_errno mkdir "$M/bad*name")"
[ "$(fuse_errno mkdir "$M/made/9")" = "Permission denied" ] || fuse_fail "mkdir in a topic"
[ "$(fuse_errno rmdir "$M/made")" = "Operation not permitted" ] || fuse_fail "rmdir without allow_delete"
[ "$(L made)" = 3 ] || fuse_fail "the topic is gone after a refused rmdir"
grep -q "allow_delete" "$T/fs.log" || fuse_fail "no log line for the refused rmdir"
# SIGTERM unmounts cleanly (exit 0, mount point released)
kill -TERM "$FSPID"
st=0
for _ in $(seq 100); do kill -0 "$FSPID" 2>/dev/null || break; sleep 0.1; done
wait "$FSPID" || st=$?
[ "$st" = 0 ] || fuse_fail "SIGTERM: exit status $st"
mountpoint -q "$M" && fuse_fail "still mounted after SIGTERM"

fuse_mount "$M" "$T/fs2.log" -b "$B" -o allow_delete,partitions=2,allow_other
grep " $M " /proc/mounts | grep -q allow_other || fuse_fail "-o allow_other not in the mount options"
mkdir "$M/two" || fuse_fail "mkdir with partitions=2"
[ "$(L two)" = 2 ] || fuse_fail "partitions=2: '$(L two)'"
rmdir "$M/made" || fuse_fail "rmdir with allow_delete"
for _ in $(seq 50); do [ -z "$(L made)" ] && break; sleep 0.1; done
[ -z "$(L made)" ] || fuse_fail "kcat -L still lists the deleted topic"
[ ! -e "$M/made" ] || fuse_fail "the mount still shows the deleted topic"
[ "$(ls "$M" | grep -v '^__')" = "$(printf 'keep\ntwo')" ] || fuse_fail "ls after rmdir: $(ls "$M")"
[ "$(fuse_errno rmdir "$M/nosuch")" = "No such file or directory" ] || fuse_fail "rmdir unknown"
[ "$(fuse_errno rmdir "$M/keep/0")" = "Permission denied" ] || fuse_fail "rmdir of a partition"
fuse_umount "$M" "$FSPID"

# a wrong address fails the command before mounting
st=0
timeout 60 "$FS" -f -b 127.0.0.1:1 "$M" 2>"$T/bad.err" || st=$?
[ "$st" = 1 ] || fuse_fail "unreachable broker: exit status $st"
grep -q "cannot read the metadata" "$T/bad.err" || fuse_fail "unreachable broker: $(cat "$T/bad.err")"
mountpoint -q "$M" && fuse_fail "mounted although the broker is unreachable"
echo OK
