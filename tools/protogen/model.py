"""model.py - read Kafka's JSON message definitions into a small model.

The schema language is described in Kafka's message/README.md.  This module
knows how to strip the `//` comments, parse version ranges ("0+", "3-5",
"none"), resolve struct types (inline `fields`, or `commonStructs` of the same
file) and give every struct and field its C name.  It rejects constructs the C
emitter does not implement instead of guessing.
"""

import json
import os
import re

MAX_VERSION = 0x7FFF

# Kafka type name -> kind used by the emitter.
PRIMITIVES = {
    "bool", "int8", "int16", "uint16", "int32", "uint32", "int64", "float64",
    "string", "bytes", "records", "uuid",
}
# Element types allowed in arrays of primitives ([]int32, []string, ...).
ARRAY_PRIMITIVES = {"int8", "int16", "int32", "int64", "string", "uuid"}

C_KEYWORDS = {
    "auto", "break", "case", "char", "const", "continue", "default", "do",
    "double", "else", "enum", "extern", "float", "for", "goto", "if", "inline",
    "int", "long", "register", "restrict", "return", "short", "signed",
    "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned",
    "void", "volatile", "while", "bool", "true", "false",
}


class SchemaError(Exception):
    pass


def strip_comments(text):
    """Remove // comments outside JSON strings."""
    out = []
    i, n, in_str = 0, len(text), False
    while i < n:
        c = text[i]
        if in_str:
            out.append(c)
            if c == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            if c == '"':
                in_str = False
        elif c == '"':
            in_str = True
            out.append(c)
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out)


def snake(name):
    """Kafka CamelCase -> snake_case (ThrottleTimeMs -> throttle_time_ms)."""
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    return s.lower()


class Versions:
    """An inclusive version range; empty when lo > hi."""

    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    @staticmethod
    def parse(spec, what):
        spec = str(spec).strip()
        if spec == "none":
            return Versions(1, 0)
        m = re.fullmatch(r"(\d+)\+", spec)
        if m:
            return Versions(int(m.group(1)), MAX_VERSION)
        m = re.fullmatch(r"(\d+)-(\d+)", spec)
        if m:
            return Versions(int(m.group(1)), int(m.group(2)))
        m = re.fullmatch(r"(\d+)", spec)
        if m:
            return Versions(int(m.group(1)), int(m.group(1)))
        raise SchemaError("%s: bad version range %r" % (what, spec))

    def empty(self):
        return self.lo > self.hi

    def intersect(self, other):
        return Versions(max(self.lo, other.lo), min(self.hi, other.hi))

    def contains(self, other):
        return other.empty() or (self.lo <= other.lo and other.hi <= self.hi)

    def __eq__(self, other):
        return (self.empty() and other.empty()) or (
            self.lo == other.lo and self.hi == other.hi)

    def cond(self, within, var="v"):
        """C condition for `var in self`, knowing var is already in `within`."""
        r = self.intersect(within)
        if r.empty():
            return "false"
        if r.lo <= within.lo and r.hi >= within.hi:
            return "true"
        parts = []
        if r.lo > within.lo:
            parts.append("%s >= %d" % (var, r.lo))
        if r.hi < within.hi:
            parts.append("%s <= %d" % (var, r.hi))
        return " && ".join(parts)

    def __repr__(self):
        if self.empty():
            return "none"
        if self.hi == MAX_VERSION:
            return "%d+" % self.lo
        return "%d-%d" % (self.lo, self.hi)


class Field:
    def __init__(self, msg, raw, where):
        self.raw = raw
        self.name = raw["name"]
        self.cname = snake(self.name)
        if self.cname in C_KEYWORDS:
            self.cname += "_"
        self.type = raw["type"]
        what = "%s.%s" % (where, self.name)
        self.versions = Versions.parse(raw["versions"], what)
        self.nullable = Versions.parse(raw.get("nullableVersions", "none"), what)
        self.ignorable = bool(raw.get("ignorable", False))
        self.default = raw.get("default")
        # A per-field "flexibleVersions" (only "none" occurs: RequestHeader's
        # ClientId keeps its int16 length in flexible header versions).
        self.flex_override = None
        if "flexibleVersions" in raw:
            self.flex_override = Versions.parse(raw["flexibleVersions"], what)
        self.tag = None if raw.get("tag") is None else int(raw["tag"])
        self.tagged = Versions.parse(raw.get("taggedVersions", "none"), what)
        if (self.tag is None) != self.tagged.empty():
            raise SchemaError("%s: tag and taggedVersions go together" % what)
        if self.tag is not None and not (self.tagged == self.versions):
            raise SchemaError("%s: fields tagged in only some of their versions "
                              "are not supported" % what)
        self.is_array = self.type.startswith("[]")
        base = self.type[2:] if self.is_array else self.type
        self.base = base
        self.struct = None  # resolved later for struct kinds
        if base in PRIMITIVES:
            self.kind = base
            if self.is_array and base not in ARRAY_PRIMITIVES:
                raise SchemaError("%s: arrays of %s not supported" % (what, base))
            if "fields" in raw:
                raise SchemaError("%s: primitive with fields" % what)
        else:
            self.kind = "struct"
        if not self.is_array and self.kind in (
                "bool", "int8", "int16", "uint16", "int32", "uint32", "int64",
                "float64") and not self.nullable.empty():
            raise SchemaError("%s: nullable %s" % (what, self.kind))

    @property
    def count_cname(self):
        return self.cname + "_count"


class Struct:
    def __init__(self, msg, name, versions):
        self.msg = msg
        self.name = name
        self.versions = versions
        self.fields = []
        self.cname = None
        self.is_top = False

    def regular_fields(self):
        return [f for f in self.fields if f.tag is None]

    def tagged_fields(self):
        return sorted([f for f in self.fields if f.tag is not None],
                      key=lambda f: f.tag)


class Message:
    def __init__(self, raw, path):
        self.raw = raw
        self.path = os.path.basename(path)
        self.name = raw["name"]
        self.type = raw["type"]
        self.api_key = raw.get("apiKey")
        self.valid = Versions.parse(raw["validVersions"], self.name)
        self.flexible = Versions.parse(raw.get("flexibleVersions", "none"),
                                       self.name)
        self.unstable = bool(raw.get("latestVersionUnstable", False))
        self.cname = "kp_" + snake(self.name)
        self.structs = {}  # name -> Struct (named nested and common structs)
        self.order = []    # structs in definition order, children first
        self.top = None
        self._build()

    def _struct_cname(self, name):
        # MetadataResponseTopic inside MetadataResponse -> kp_metadata_response_topic
        short = name[len(self.name):] if (
            name.startswith(self.name) and len(name) > len(self.name)) else name
        return "%s_%s" % (self.cname, snake(short))

    def _build(self):
        common = {}
        for cs in self.raw.get("commonStructs", []):
            common[cs["name"]] = cs
        self.top = Struct(self, self.name, self.valid)
        self.top.cname = self.cname
        self.top.is_top = True
        self._fill(self.top, self.raw.get("fields", []), common, self.name)
        self.order.append(self.top)
        seen = {}
        for s in self.order:
            if s.cname in seen:
                raise SchemaError("%s: C name %s used twice" % (self.name, s.cname))
            seen[s.cname] = s
            names = set()
            for f in s.fields:
                for n in (f.cname, f.count_cname if f.is_array else None):
                    if n is None:
                        continue
                    if n in names:
                        raise SchemaError("%s.%s: C member %s used twice" %
                                          (self.name, s.name, n))
                    names.add(n)

    def _fill(self, struct, raw_fields, common, where):
        for rf in raw_fields:
            f = Field(self, rf, where)
            struct.fields.append(f)
            if f.kind != "struct":
                continue
            if "fields" in rf:
                body = rf["fields"]
            elif f.base in common:
                body = common[f.base]["fields"]
            else:
                raise SchemaError("%s.%s: unknown type %s" % (where, f.name, f.type))
            if f.base in self.structs:
                prev = self.structs[f.base]
                if "fields" in rf and json.dumps(rf["fields"], sort_keys=True) != \
                        json.dumps(prev.raw_fields, sort_keys=True):
                    raise SchemaError("%s: struct %s defined twice differently" %
                                      (self.name, f.base))
                f.struct = prev
                continue
            # Nested structs are checked against the message's whole range:
            # a common struct may be reached from fields with different ranges.
            s = Struct(self, f.base, self.valid)
            s.cname = self._struct_cname(f.base)
            s.raw_fields = body
            self.structs[f.base] = s
            f.struct = s
            self._fill(s, body, common, "%s.%s" % (where, f.base))
            self.order.append(s)


class Api:
    """A request/response pair sharing one ApiKey."""

    def __init__(self, request, response):
        self.request, self.response = request, response
        self.key = request.api_key
        self.name = request.name[:-len("Request")]
        self.snake = snake(self.name)
        self.valid = request.valid
        self.flexible = request.flexible
        self.unstable = request.unstable


def load_file(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        return json.loads(strip_comments(text))
    except ValueError as e:
        raise SchemaError("%s: %s" % (path, e))


def load_messages(indir):
    """Returns (apis sorted by key, {"RequestHeader": Message, ...})."""
    requests, responses, headers = {}, {}, {}
    for name in sorted(os.listdir(indir)):
        if not name.endswith(".json"):
            continue
        raw = load_file(os.path.join(indir, name))
        kind = raw.get("type")
        if kind == "request":
            requests[raw["apiKey"]] = Message(raw, name)
        elif kind == "response":
            responses[raw["apiKey"]] = Message(raw, name)
        elif kind == "header":
            headers[raw["name"]] = Message(raw, name)
    if set(requests) != set(responses):
        raise SchemaError("requests and responses do not pair up: %s" %
                          sorted(set(requests) ^ set(responses)))
    for h in ("RequestHeader", "ResponseHeader"):
        if h not in headers:
            raise SchemaError("missing %s.json" % h)
    apis = []
    for key in sorted(requests):
        req, resp = requests[key], responses[key]
        if not (req.valid == resp.valid and req.flexible == resp.flexible):
            raise SchemaError("%s: request and response version ranges differ" %
                              req.name)
        apis.append(Api(req, resp))
    return apis, headers


def load_records(recdir, required=True):
    """Record schemas ("type": "data", e.g. group-coordinator/*.json) of recdir,
    sorted by name.  Other types in the folder are ignored."""
    recs = []
    for name in sorted(os.listdir(recdir)):
        if not name.endswith(".json"):
            continue
        raw = load_file(os.path.join(recdir, name))
        if raw.get("type") == "data":
            recs.append(Message(raw, name))
    if not recs and required:
        raise SchemaError("%s: no \"data\" record schemas" % recdir)
    return recs
