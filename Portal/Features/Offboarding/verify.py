#!/usr/bin/env python3
"""Checks a Cogrion offboarding bundle from the bundle alone (Python 3 standard library only).

    python3 verify.py offboarding-bundle.zip     # or: python3 verify.py <directory the bundle was unpacked into>

1. Every file the manifest lists has the SHA-256 the manifest says, and no file is missing or added.
2. Every audit chain (audit/<tenant id>.jsonl) links up: each event's prev_hash is the hash of the event
   before it (none for the first), and each hash is SHA-256(prev_hash bytes || UTF-8 payload), where the
   payload is the Portal's audit_event_payload (docs/adr/0007): the fields joined by the unit separator
   0x1F, absent ones as empty text, the timestamp as stored in the bundle, details as PostgreSQL's jsonb text.
3. Each chain's last hash is the head the manifest names, which is also the head at the start in the
   deletion certificate the Portal signed.

Exit code 0 and "bundle verified" when everything holds; 1 and the first problem otherwise.
"""
import hashlib
import json
import os
import sys
import zipfile

UNIT_SEPARATOR = "\x1f"


class Bundle:
    def __init__(self, path):
        self.path = path
        self.archive = zipfile.ZipFile(path) if os.path.isfile(path) else None

    def names(self):
        if self.archive is not None:
            return sorted(n for n in self.archive.namelist() if not n.endswith("/"))
        found = []
        for root, _, files in os.walk(self.path):
            for name in files:
                found.append(os.path.relpath(os.path.join(root, name), self.path).replace(os.sep, "/"))
        return sorted(found)

    def read(self, name):
        if self.archive is not None:
            return self.archive.read(name)
        with open(os.path.join(self.path, *name.split("/")), "rb") as f:
            return f.read()


def payload(event):
    fields = [
        event["occurred_at"], event["actor_kind"], event["actor_id"], event.get("actor_name") or "",
        event.get("tenant_id") or "", event["action"], event.get("target_kind") or "", event.get("target_id") or "",
        event.get("request_id") or "", event["details"],
    ]
    return UNIT_SEPARATOR.join(fields).encode("utf-8")


def check_chain(name, data, expected):
    previous = None
    count = 0
    for number, line in enumerate(data.decode("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        event = json.loads(line)
        prev = event.get("prev_hash")
        if prev != previous:
            return f"{name} line {number} (event {event.get('id')}): prev_hash {prev} is not the previous event's hash {previous}"
        computed = hashlib.sha256((bytes.fromhex(prev) if prev else b"") + payload(event)).hexdigest()
        if computed != event["hash"]:
            return f"{name} line {number} (event {event.get('id')}): content does not match its hash (computed {computed}, stored {event['hash']})"
        previous = event["hash"]
        count += 1
    if count != expected.get("events"):
        return f"{name}: {count} events, the manifest says {expected.get('events')}"
    if previous != expected.get("head"):
        return f"{name}: the chain ends at {previous}, the manifest says {expected.get('head')}"
    return None


def verify(path):
    bundle = Bundle(path)
    manifest = json.loads(bundle.read("manifest.json"))
    listed = manifest["files"]
    present = [n for n in bundle.names() if n != "manifest.json"]
    for name in present:
        if name not in listed:
            return f"{name} is in the bundle but not in the manifest"
    for name, digest in sorted(listed.items()):
        if name not in present:
            return f"{name} is in the manifest but missing from the bundle"
        actual = hashlib.sha256(bundle.read(name)).hexdigest()
        if actual != digest:
            return f"{name}: SHA-256 {actual}, the manifest says {digest}"
    for tenant, expected in sorted(manifest["chains"].items()):
        problem = check_chain(f"audit/{tenant}.jsonl", bundle.read(f"audit/{tenant}.jsonl"), expected)
        if problem:
            return problem
    return None


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    try:
        problem = verify(argv[1])
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as error:
        problem = f"unreadable bundle: {type(error).__name__}: {error}"
    if problem:
        print(f"bundle NOT verified: {problem}")
        return 1
    print("bundle verified: every file matches the manifest and every audit chain links up to its head")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
