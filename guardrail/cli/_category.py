"""guardrail category: custom categories (local engine or Azure)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from .._exceptions import InvalidInputError
from ..backends._base import CategoryRef
from ._backend import Session
from ._io import print_table, read_texts, shorten


def register(sub: Any) -> None:
    p = sub.add_parser("category", help="manage and apply custom categories",
                       description="Custom categories trained from JSONL {\"text\", \"isPositive\"}.")
    cat = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    c = cat.add_parser("create", help="create a new version from samples")
    c.add_argument("name", metavar="NAME")
    c.add_argument("--definition", "-d", required=True)
    c.add_argument("--samples", "-s", required=True, metavar="F.jsonl",
                   help="JSONL file or URL (Azure: a blob URL)")
    c.set_defaults(run=_create)

    b = cat.add_parser("build", help="build a version (default: the latest)")
    b.add_argument("name", metavar="NAME")
    b.add_argument("--version", type=int)
    b.add_argument("--wait", action="store_true", help="wait until the build ends")
    b.set_defaults(run=_build)

    s = cat.add_parser("show", help="show a version (default: the latest)")
    s.add_argument("name", metavar="NAME")
    s.add_argument("--version", type=int)
    s.add_argument("--json", action="store_true")
    s.set_defaults(run=_show)

    ls = cat.add_parser("list", help="list categories (latest versions)")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(run=_list)

    d = cat.add_parser("delete", help="delete one version or the whole category")
    d.add_argument("name", metavar="NAME")
    d.add_argument("--version", type=int)
    d.set_defaults(run=_delete)

    a = cat.add_parser("analyze", help="apply categories to text")
    a.add_argument("refs", nargs="+", metavar="NAME[:VERSION]", help="categories, then the text (last argument)")
    a.add_argument("--file", "-f", metavar="F.jsonl")
    a.add_argument("--json", action="store_true")
    a.set_defaults(run=_analyze)


def _create(args: argparse.Namespace) -> int:
    with Session(args) as s:
        cats = s.resource("categories")
        if s.name == "azure":
            if not args.samples.startswith(("https://", "http://")):
                raise InvalidInputError("Azure reads samples from a blob: pass --samples https://...jsonl")
            v = cats.create_version(args.name, definition=args.definition, sample_blob_url=args.samples)
        else:
            v = cats.create_version(args.name, definition=args.definition, samples=args.samples)
    print(f"category {v.category_name} version {v.version} created ({v.status})")
    for w in v.warnings:
        print(f"warning: {w}")
    print(f"build it with `guardrail category build {v.category_name} --version {v.version} --wait`")
    return 0


def _build(args: argparse.Namespace) -> int:
    with Session(args) as s:
        cats = s.resource("categories")
        if s.name == "azure":
            version = args.version or cats.get(args.name).version
            cats.build(args.name, version)
            v = cats.wait_for_build(args.name, version) if args.wait else cats.get(args.name, version)
        else:
            v = cats.build(args.name, args.version, wait=args.wait)
    print(f"category {v.category_name} version {v.version}: {v.status}" + (f" - {v.error}" if v.error else ""))
    return 1 if v.status == "Failed" else 0


def _show(args: argparse.Namespace) -> int:
    with Session(args) as s:
        v = s.resource("categories").get(args.name, args.version)
    if args.json:
        print(json.dumps(v.model_dump(by_alias=True, exclude_none=True)))
        return 0
    print(f"{v.category_name} v{v.version}: {v.status}{' - ' + v.error if v.error else ''}")
    print(f"  definition: {v.definition}")
    if v.positives is not None:
        print(f"  samples: {v.positives} positive, {v.negatives} negative (from {v.sample_blob_url})")
    for w in v.warnings:
        print(f"  warning: {w}")
    return 0


def _list(args: argparse.Namespace) -> int:
    with Session(args) as s:
        items = s.resource("categories").list()
    if args.json:
        for v in items:
            print(json.dumps(v.model_dump(by_alias=True, exclude_none=True)))
        return 0
    print_table(["name", "latest", "status", "definition"],
                [[v.category_name, str(v.version), v.status, shorten(v.definition, 50)] for v in items])
    return 0


def _delete(args: argparse.Namespace) -> int:
    with Session(args) as s:
        s.resource("categories").delete(args.name, args.version)
    print(f"category {args.name}{' version ' + str(args.version) if args.version else ''} deleted")
    return 0


def _analyze(args: argparse.Namespace) -> int:
    refs = list(args.refs)
    if args.file is not None:
        texts = read_texts(None, args.file)
    else:
        if len(refs) < 2:
            raise InvalidInputError("give NAME[:VERSION]... TEXT or --file F.jsonl")
        texts = [refs.pop()]
    parsed = []
    for ref in refs:
        name, _, version = ref.partition(":")
        if version and not version.isdigit():
            raise InvalidInputError(f"{ref!r}: the version after ':' must be a number")
        parsed.append(CategoryRef(name, int(version) if version else None))
    with Session(args) as s:
        if s.name == "azure":
            results = [s.run(s.backend.analyze_custom_categories(t, parsed)) for t in texts]
        else:
            cats = s.resource("categories")
            results = [cats.analyze(t, parsed) for t in texts]
    detected_any = False
    for i, found in enumerate(results, 1):
        detected_any = detected_any or any(f.detected for f in found)
        if args.json:
            print(json.dumps({"customizedCategoriesAnalysis": [
                {"categoryName": f.name, "version": f.version, "detected": f.detected, "score": f.score}
                for f in found]}))
        else:
            print(f"{i}: " + ", ".join(
                f"{f.name}{'' if f.version is None else ' v' + str(f.version)}="
                f"{'DETECTED' if f.detected else 'no'}{'' if f.score is None else f' ({f.score:.2f})'}"
                for f in found))
    return 1 if detected_any else 0
