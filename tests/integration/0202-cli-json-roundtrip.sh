#!/usr/bin/env bash
# 0202: `seglog consume -J | seglog produce -J` copies records exactly: keys,
# values, per-record headers, timestamps, partitions, null versus empty and
# binary data (as {"base64":...}).  Ground truth is generated here in Python;
# both the first copy and the copy of the copy are checked against it.
set -euo pipefail
: "${SEGLOG_BUILD:?SEGLOG_BUILD must point at the build directory}"
S="$SEGLOG_BUILD/kcat-tools/seglog"
[ -x "$S" ] || { echo "FAIL: $S is not built" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

/usr/bin/python3 - "$S" "$tmp" <<'PY'
import base64, json, random, subprocess, sys
S, tmp = sys.argv[1], sys.argv[2]
rng = random.Random(202)

def rbytes(n, binary):
    if binary:
        return bytes(rng.getrandbits(8) for _ in range(n))
    return "".join(rng.choice("abcé€😀 \n\t\"\\\x01/") for _ in range(n)).encode()

def maybe(kind):
    c = rng.random()
    if c < 0.15:
        return None
    if c < 0.3:
        return b""
    return rbytes(rng.randint(1, 40), kind == "bin" or rng.random() < 0.4)

def enc(b):
    if b is None:
        return None
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(b).decode()}

def dec(v):
    if v is None:
        return None
    if isinstance(v, dict):
        return base64.b64decode(v["base64"])
    return v.encode("utf-8")

truth = {0: [], 1: [], 2: []}
lines = []
for i in range(600):
    p = rng.randrange(3)
    hs = [(rbytes(rng.randint(0, 6), rng.random() < 0.3), maybe("x"))
          for _ in range(rng.randint(0, 3))]
    r = {"ts": 1700000000000 + i * 7, "key": maybe("x"), "value": maybe("x"), "headers": hs}
    truth[p].append(r)
    env = {"topic": "src", "partition": p, "ts": r["ts"], "tstype": "create",
           "key": enc(r["key"]), "payload": enc(r["value"])}
    if hs:
        env["headers"] = [x for h in hs for x in (enc(h[0]), enc(h[1]))]
    lines.append(json.dumps(env))
open(tmp + "/in.jsonl", "w").write("\n".join(lines) + "\n")

def run(args, inp=None):
    p = subprocess.run([S] + args, input=inp, capture_output=True)
    if p.returncode != 0:
        print("FAIL: seglog %s: rc=%d %s" % (" ".join(args), p.returncode, p.stderr.decode()))
        sys.exit(1)
    return p.stdout

run(["produce", "-d", tmp + "/a", "-t", "src", "--partitions", "3", "-J", "-l", tmp + "/in.jsonl"])

def check(dirname, topic):
    out = run(["consume", "-d", dirname, "-t", topic, "-e", "-J"])
    got = {0: [], 1: [], 2: []}
    for line in out.decode("utf-8").splitlines():
        e = json.loads(line)
        assert e["topic"] == topic, e
        assert e["offset"] == len(got[e["partition"]]), e
        hs = e.get("headers", [])
        got[e["partition"]].append({"ts": e["ts"], "key": dec(e["key"]),
                                    "value": dec(e["payload"]),
                                    "headers": [(dec(hs[i]), dec(hs[i + 1]))
                                                for i in range(0, len(hs), 2)]})
    for p in range(3):
        if got[p] != truth[p]:
            for i, (a, b) in enumerate(zip(truth[p], got[p])):
                if a != b:
                    print("FAIL: %s partition %d record %d:\n want %r\n got  %r" % (dirname, p, i, a, b))
                    break
            print("FAIL: %s partition %d: %d records, want %d" % (dirname, p, len(got[p]), len(truth[p])))
            sys.exit(1)
    return out

first = check(tmp + "/a", "src")
# the pipeline, as a shell would run it
subprocess.run("'%s' consume -d '%s/a' -t src -e -J | '%s' produce -d '%s/b' -t src -J --partitions 3"
               % (S, tmp, S, tmp), shell=True, check=True)
second = check(tmp + "/b", "src")
if first != second:
    print("FAIL: consume -J of the copy differs from the original"); sys.exit(1)
# into another topic name: same records, only "topic" differs
subprocess.run("'%s' consume -d '%s/b' -t src -e -J | '%s' produce -d '%s/c' -t dst -J"
               % (S, tmp, S, tmp), shell=True, check=True)
third = check(tmp + "/c", "dst")
if third.replace(b'"topic":"dst"', b'"topic":"src"') != first:
    print("FAIL: copy into another topic differs"); sys.exit(1)
# a malformed line names the line and position; earlier lines are kept
p = subprocess.run([S, "produce", "-d", tmp + "/e", "-t", "bad", "-J"],
                   input=b'{"payload":"ok"}\n{"payload":"x",}\n', capture_output=True)
if p.returncode != 1 or b"input line 2: at character" not in p.stderr:
    print("FAIL: malformed JSON: rc=%d %r" % (p.returncode, p.stderr)); sys.exit(1)
out = run(["consume", "-d", tmp + "/e", "-t", "bad", "-e"])
if out != b"ok\n":
    print("FAIL: records before the bad line: %r" % out); sys.exit(1)
print("0202: ok (%d records, 3 partitions, 3 copies)" % sum(len(v) for v in truth.values()))
PY
