"""guardrail blocklist: manage local blocklists."""

from __future__ import annotations

import argparse
import json
from typing import Any

from .._exceptions import EmptyTextError, InvalidInputError
from ._backend import Session
from ._io import read_text_file, print_table, read_jsonl, shorten


def register(sub: Any) -> None:
    p = sub.add_parser("blocklist", help="manage blocklists", description="Manage blocklists.")
    bl = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    c = bl.add_parser("create", help="create a blocklist or update its description")
    c.add_argument("name", metavar="NAME")
    c.add_argument("--description", "-d", default=None)
    c.set_defaults(run=_create)

    ls = bl.add_parser("list", help="list blocklists")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(run=_list)

    s = bl.add_parser("show", help="show a blocklist and its items")
    s.add_argument("name", metavar="NAME")
    s.add_argument("--json", action="store_true")
    s.set_defaults(run=_show)

    d = bl.add_parser("delete", help="delete a blocklist and its items")
    d.add_argument("name", metavar="NAME")
    d.set_defaults(run=_delete)

    a = bl.add_parser(
        "add",
        help="add terms (or update their descriptions)",
        description="Add terms from arguments and/or --file (one term per line, or JSONL "
        "objects with 'text', 'description', 'isRegex').",
    )
    a.add_argument("name", metavar="NAME")
    a.add_argument("terms", nargs="*", metavar="TERM")
    a.add_argument("--file", "-f", metavar="F")
    a.add_argument("--description", "-d", default="", help="description for the terms given")
    a.add_argument("--regex", action="store_true", help="treat the TERMs as regular expressions")
    a.set_defaults(run=_add)

    r = bl.add_parser("remove", help="remove items by id")
    r.add_argument("name", metavar="NAME")
    r.add_argument("item_ids", nargs="+", metavar="ITEM_ID")
    r.set_defaults(run=_remove)


def _create(args: argparse.Namespace) -> int:
    with Session(args) as session:
        bl = session.resource("blocklists").create_or_update(args.name, description=args.description)
    print(f"blocklist {bl.blocklist_name} ready")
    return 0


def _list(args: argparse.Namespace) -> int:
    with Session(args) as session:
        blocklists = session.resource("blocklists")
        lists = blocklists.list()
        counts = [len(blocklists.list_items(bl.blocklist_name)) for bl in lists]
    if args.json:
        for bl in lists:
            print(json.dumps(bl.model_dump(by_alias=True), ensure_ascii=False))
        return 0
    rows = [
        [bl.blocklist_name, str(n), shorten(bl.description, 50)] for bl, n in zip(lists, counts)
    ]
    print_table(["name", "items", "description"], rows)
    return 0


def _show(args: argparse.Namespace) -> int:
    with Session(args) as session:
        blocklists = session.resource("blocklists")
        bl = blocklists.get(args.name)
        items = blocklists.list_items(args.name)
    if args.json:
        print(
            json.dumps(
                {**bl.model_dump(by_alias=True),
                 "blocklistItems": [i.model_dump(by_alias=True) for i in items]},
                ensure_ascii=False,
            )
        )
        return 0
    print(f"{bl.blocklist_name}: {bl.description or '(no description)'} - {len(items)} items")
    rows = [
        [i.blocklist_item_id, ("re:" if i.is_regex else "") + i.text, shorten(i.description, 40)]
        for i in items
    ]
    if rows:
        print_table(["id", "text", "description"], rows)
    return 0


def _delete(args: argparse.Namespace) -> int:
    with Session(args) as session:
        session.resource("blocklists").delete(args.name)
    print(f"blocklist {args.name} deleted")
    return 0


def _read_term_file(path: str) -> list[Any]:
    if path.endswith(".jsonl") or path == "-":
        rows = read_jsonl(path)
        items = []
        for row in rows:
            line = row.pop("_line")
            if not isinstance(row.get("text"), str):
                raise InvalidInputError(f"{path} line {line}: needs a string field 'text'")
            items.append(row)
        return items
    lines = read_text_file(path).splitlines()
    return [line.strip() for line in lines if line.strip()]


def _add(args: argparse.Namespace) -> int:
    items: list[Any] = [
        {"text": t, "description": args.description, "isRegex": args.regex} for t in args.terms
    ]
    if args.file:
        items.extend(_read_term_file(args.file))
    if not items:
        raise EmptyTextError("give TERMs or --file with terms to add")
    with Session(args) as session:
        added = session.resource("blocklists").add_or_update_items(args.name, items)
    for item in added:
        print(f"{item.blocklist_item_id}  {item.text}")
    print(f"{len(added)} item(s) added or updated in {args.name}")
    return 0


def _remove(args: argparse.Namespace) -> int:
    with Session(args) as session:
        session.resource("blocklists").remove_items(args.name, args.item_ids)
    print(f"{len(args.item_ids)} item(s) removed from {args.name}")
    return 0
