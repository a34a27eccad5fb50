#!/usr/bin/env python3
"""Derive a benchmark mapping from a mapping file (init's or bench/bench.toml).

usage: patch_mapping.py IN.toml OUT.toml [--exclude TABLE]... [--reject-limit N]

- source.path is rewritten as an absolute path (OUT may live in another
  directory than IN, and relative paths resolve against the mapping's dir);
- defaults.reject_limit is set to N when given (the messy table must produce
  rejects, not a failed run);
- each --exclude TABLE gets `include = false`.

Edits are textual (comments and layout of IN survive) and the result is
checked with tomllib: the script fails rather than write something that does
not say what was asked.
"""
import argparse, os, re, sys, tomllib

ap = argparse.ArgumentParser()
ap.add_argument("src")
ap.add_argument("dst")
ap.add_argument("--exclude", action="append", default=[])
ap.add_argument("--reject-limit", type=int)
a = ap.parse_args()

text = open(a.src, encoding="utf-8").read()
doc = tomllib.loads(text)
src_path = doc["source"]["path"]
if not os.path.isabs(src_path):
    src_path = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(a.src)), src_path))

lines = text.splitlines()
HEADER = re.compile(r"^\s*\[([^\[\]]+)\]\s*(#.*)?$")


def header_name(line):
    m = HEADER.match(line)
    return m.group(1).strip() if m else None


def section_span(name):
    """(header index, end index) of the [name] section, or None."""
    for i, l in enumerate(lines):
        if header_name(l) == name:
            j = i + 1
            while j < len(lines) and not lines[j].lstrip().startswith("["):
                j += 1
            return i, j
    return None


def set_key(section, key, value):
    span = section_span(section)
    if span is None:
        lines.extend(["", f"[{section}]", f"{key} = {value}"])
        return
    i, j = span
    for k in range(i + 1, j):
        if re.match(rf"^\s*{re.escape(key)}\s*=", lines[k]):
            lines[k] = f"{key} = {value}"
            return
    lines.insert(i + 1, f"{key} = {value}")


def toml_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


set_key("source", "path", toml_str(src_path))
if a.reject_limit is not None:
    set_key("defaults", "reject_limit", str(a.reject_limit))
for t in a.exclude:
    key = t if re.fullmatch(r"[A-Za-z0-9_-]+", t) else toml_str(t)
    set_key(f"tables.{key}", "include", "false")

out = "\n".join(lines) + "\n"
chk = tomllib.loads(out)
assert chk["source"]["path"] == src_path
if a.reject_limit is not None:
    assert chk["defaults"]["reject_limit"] == a.reject_limit
for t in a.exclude:
    assert chk["tables"][t]["include"] is False, t
with open(a.dst, "w", encoding="utf-8") as f:
    f.write(out)
