"""guardrail incident: text and image incidents (local engine or Azure)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from .._exceptions import EmptyTextError, InvalidInputError
from ._backend import Session
from ._io import print_table, read_jsonl, read_texts, shorten


def register(sub: Any) -> None:
    p = sub.add_parser("incident", help="manage and detect incidents", description="Text and image incidents.")
    inc = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    c = inc.add_parser("create", help="create an incident or update its description/threshold")
    c.add_argument("name", metavar="NAME")
    c.add_argument("--description", "-d")
    c.add_argument("--image", action="store_true", help="an image incident")
    c.add_argument("--threshold", type=float, help="detection threshold (local engine; 0-1)")
    c.set_defaults(run=_create)

    a = inc.add_parser("add-samples", help='add samples from JSONL lines {"text": ...} or {"image": path-or-base64}')
    a.add_argument("name", metavar="NAME")
    a.add_argument("--file", "-f", required=True, metavar="F.jsonl")
    a.set_defaults(run=_add)

    for action, helptext in (("deploy", "make the samples live"), ("show", "show an incident and its samples"),
                             ("delete", "delete an incident")):
        x = inc.add_parser(action, help=helptext)
        x.add_argument("name", metavar="NAME")
        x.add_argument("--image", action="store_true")
        if action == "show":
            x.add_argument("--json", action="store_true")
        x.set_defaults(run={"deploy": _deploy, "show": _show, "delete": _delete}[action])

    ls = inc.add_parser("list", help="list incidents")
    ls.add_argument("--image", action="store_true")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(run=_list)

    r = inc.add_parser("remove-samples", help="remove samples by id")
    r.add_argument("name", metavar="NAME")
    r.add_argument("ids", nargs="+", metavar="ID")
    r.add_argument("--image", action="store_true")
    r.set_defaults(run=_remove)

    d = inc.add_parser("detect", help="detect incidents in text, a JSONL file, or an image")
    d.add_argument("names", nargs="+", metavar="NAME", help="incident names, then the text (last argument)")
    d.add_argument("--file", "-f", metavar="F.jsonl")
    d.add_argument("--image", metavar="PATH", help="an image file, base64, or URL (image incidents)")
    d.add_argument("--json", action="store_true")
    d.set_defaults(run=_detect)


def _incidents(session: Session, image: bool) -> Any:
    return session.resource("image_incidents" if image else "text_incidents")


def _create(args: argparse.Namespace) -> int:
    with Session(args) as s:
        kwargs: dict[str, Any] = {}
        if args.description is not None:  # an update without --description keeps the old one
            kwargs["description"] = args.description
        if args.threshold is not None:
            if s.name == "azure":
                raise InvalidInputError("--threshold applies to the local engine only")
            kwargs["threshold"] = args.threshold
        inc = _incidents(s, args.image).create_or_update(args.name, **kwargs)
    print(f"{'image' if args.image else 'text'} incident {inc.incident_name} ready")
    return 0


def _add(args: argparse.Namespace) -> int:
    rows = read_jsonl(args.file)
    kinds = {("image" if "image" in r else "text" if "text" in r else None) for r in rows}
    for r in rows:
        if not isinstance(r.get("text", r.get("image")), str):
            raise InvalidInputError(f'{args.file} line {r["_line"]}: expected {{"text": ...}} or {{"image": ...}}')
    if len(kinds) != 1:
        raise InvalidInputError(f"{args.file} mixes text and image samples; use one kind per incident")
    image = kinds == {"image"}
    samples = [r["image" if image else "text"] for r in rows]
    with Session(args) as s:
        added = _incidents(s, image).add_samples(args.name, samples)
    for sample in added:
        print(sample.incident_sample_id)
    print(f"{len(added)} sample(s) added to {args.name}; run `guardrail incident deploy {args.name}"
          f"{' --image' if image else ''}` to make them live")
    return 0


def _deploy(args: argparse.Namespace) -> int:
    with Session(args) as s:
        status = _incidents(s, args.image).deploy(args.name)
    print(f"incident {args.name}: deploy {status}")
    return 0


def _show(args: argparse.Namespace) -> int:
    with Session(args) as s:
        incidents = _incidents(s, args.image)
        inc = incidents.get(args.name)
        samples = incidents.list_samples(args.name)
    if args.json:
        print(json.dumps({**inc.model_dump(by_alias=True, exclude_none=True),
                          "incidentSamples": [x.model_dump(by_alias=True, exclude_none=True) for x in samples]}))
        return 0
    print(f"{inc.incident_name} ({inc.kind}): {inc.status or '-'}; {len(samples)} samples; "
          f"{inc.description or '(no description)'}")
    rows = [[x.incident_sample_id, shorten(x.text or "(image)", 70)] for x in samples]
    if rows:
        print_table(["id", "sample"], rows)
    return 0


def _list(args: argparse.Namespace) -> int:
    with Session(args) as s:
        items = _incidents(s, args.image).list()
    if args.json:
        for inc in items:
            print(json.dumps(inc.model_dump(by_alias=True, exclude_none=True)))
        return 0
    print_table(["name", "kind", "status", "description"],
                [[i.incident_name, i.kind, i.status or "-", shorten(i.description, 50)] for i in items])
    return 0


def _delete(args: argparse.Namespace) -> int:
    with Session(args) as s:
        _incidents(s, args.image).delete(args.name)
    print(f"incident {args.name} deleted")
    return 0


def _remove(args: argparse.Namespace) -> int:
    with Session(args) as s:
        _incidents(s, args.image).remove_samples(args.name, args.ids)
    print(f"{len(args.ids)} sample(s) removed from {args.name}")
    return 0


def _detect(args: argparse.Namespace) -> int:
    names = list(args.names)
    if args.image is not None:
        inputs, image = [args.image], True
    elif args.file is not None:
        inputs, image = read_texts(None, args.file), False
    else:
        if len(names) < 2:
            raise EmptyTextError("give NAME... TEXT, --file F.jsonl, or --image PATH")
        inputs, image = [names.pop()], False
    with Session(args) as s:
        incidents = _incidents(s, image)
        if s.name == "azure":
            results = [incidents.detect(value, names) for value in inputs]
        else:  # show the nearest incident even when nothing hits
            results = [incidents.detect(value, names, include_misses=True) for value in inputs]
    any_hit = False
    for i, found in enumerate(results, 1):
        hits = [f for f in found if f.detected]
        any_hit = any_hit or bool(hits)
        if args.json:
            print(json.dumps({"incidentMatches": [
                {"incidentName": f.name, "detected": f.detected, "score": f.score,
                 "nearestSampleId": f.item_id, "nearestSample": f.item_text} for f in found]}))
        else:
            label = ", ".join(f"{f.name} ({f.score:.2f})" if f.score is not None else f.name for f in hits)
            best = found[0] if found else None
            near = f"; nearest: {best.name} {best.score:.2f}" if best is not None and best.score is not None else ""
            print(f"{i}: {'HIT ' + label if hits else 'no incident'}{'' if hits else near}")
    return 1 if any_hit else 0
