"""What-if edits of an input: add and remove objects in memory, never touching the files.

The edit works on the read documents, not on the built model, so the edited input goes through exactly
the loaders, finalizers (tiers, profiles) and checks the files themselves go through: a what-if answer is
the answer the CLI would give on the edited repository.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from netverify.load.documents import Document
from netverify.load.kinds import CLUSTER_SCOPED_KINDS, split_api_version
from netverify.load.sources import read_sources, read_text
from netverify.model.diagnostics import Diagnostic


class ChangeError(ValueError):
    """A removal that names no object, or names several: a what-if must say exactly what it changes."""


@dataclass(frozen=True)
class ObjectKey:
    """How a user names one object: kind (optional), namespace (None: cluster-scoped), name, API group."""

    kind: str | None
    namespace: str | None
    name: str
    group: str | None = None

    def __str__(self) -> str:
        parts = [p for p in (self.kind, self.namespace, self.name) if p]
        return "/".join(parts)


def document_key(doc: Document) -> ObjectKey | None:
    """The key of a read document, or None when it is not a named Kubernetes object."""
    data = doc.data
    metadata = data.get("metadata") if isinstance(data, dict) else None
    kind = data.get("kind") if isinstance(data, dict) else None
    if not isinstance(metadata, dict) or not isinstance(kind, str) or not isinstance(metadata.get("name"), str):
        return None
    namespace = metadata.get("namespace")
    if kind in CLUSTER_SCOPED_KINDS:
        namespace = None
    elif not isinstance(namespace, str) or not namespace:
        namespace = "default"
    api_version = data.get("apiVersion")
    group = split_api_version(api_version)[0] if isinstance(api_version, str) else None
    return ObjectKey(kind, namespace, metadata["name"], group)


def parse_removal(spec: Any) -> list[ObjectKey]:
    """A removal as the keys it may mean.

    "Kind/namespace/name" is one key; "namespace/name" may also be "Kind/name" of a cluster-scoped object
    (`Namespace/shop`, `GlobalNetworkPolicy/default-deny`), so both readings are tried. A dict is a
    manifest (apiVersion/kind/metadata) or {"kind", "namespace", "name"}.
    """
    if isinstance(spec, dict):
        metadata = spec.get("metadata") if isinstance(spec.get("metadata"), dict) else spec
        name = metadata.get("name")
        if not isinstance(name, str) or not name:
            raise ChangeError(f"cannot remove {spec!r}: expected a manifest or a dict with a 'name'")
        kind = spec.get("kind") if isinstance(spec.get("kind"), str) else None
        api_version = spec.get("apiVersion")
        group = split_api_version(api_version)[0] if isinstance(api_version, str) else None
        namespace = metadata.get("namespace")
        if kind in CLUSTER_SCOPED_KINDS:
            return [ObjectKey(kind, None, name, group)]
        if kind is not None and not namespace:
            namespace = "default"
        return [ObjectKey(kind, namespace, name, group)]
    if not isinstance(spec, str) or not spec.strip("/ "):
        raise ChangeError(
            f"cannot remove {spec!r}: expected 'Kind/namespace/name', 'namespace/name', 'Kind/name' or a dict"
        )
    parts = spec.strip().split("/")
    if len(parts) == 3 and all(parts):
        return [ObjectKey(parts[0], parts[1], parts[2])]
    if len(parts) == 2 and all(parts):
        return [ObjectKey(None, parts[0], parts[1]), ObjectKey(parts[0], None, parts[1])]
    raise ChangeError(f"cannot remove {spec!r}: expected 'Kind/namespace/name', 'namespace/name' or 'Kind/name'")


def key_matches(wanted: ObjectKey, found: ObjectKey) -> bool:
    if wanted.name != found.name:
        return False
    if wanted.kind is not None and wanted.kind.lower() != found.kind.lower():  # type: ignore[union-attr]
        return False
    if wanted.group is not None and wanted.group != found.group:
        return False
    if wanted.kind is None:  # "namespace/name": a namespaced object
        return found.namespace == wanted.namespace
    return (found.namespace or None) == (wanted.namespace or None)


def read_additions(add: Iterable[Any]) -> tuple[list[Document], list[Diagnostic]]:
    """Paths, YAML strings, dicts or lists of dicts; YAML strings are named `<add[i]>` in positions."""
    documents: list[Document] = []
    diagnostics: list[Diagnostic] = []
    for index, source in enumerate(add):
        if isinstance(source, str) and not os.path.exists(source) and ("\n" in source or ":" in source):
            docs, diags = read_text(source, f"<add[{index}]>")
        else:
            docs, diags = read_sources([source])
        documents.extend(docs)
        diagnostics.extend(diags)
    return documents, diagnostics


def apply_changes(
    documents: list[Document], add: Iterable[Any] = (), remove: Iterable[Any] = ()
) -> tuple[list[Document], list[Diagnostic], list[str]]:
    """The documents with `remove` taken out and `add` appended, the additions' read problems, and a
    one-line description of each change (for the result's display). An added object with the kind,
    namespace and name of an existing one replaces it, as `kubectl apply` would.

    Each removal must name exactly one object among the current documents (before additions, so
    "replace X" is remove X + add X'); otherwise ChangeError says what it matched.
    """
    kept = list(documents)
    described: list[str] = []
    for spec in remove:
        readings = parse_removal(spec)
        matches = [
            i
            for i, doc in enumerate(kept)
            if (key := document_key(doc)) is not None and any(key_matches(r, key) for r in readings)
        ]
        if not matches:
            raise ChangeError(f"cannot remove {spec!r}: no such object in the input")
        if len(matches) > 1:
            names = ", ".join(f"{document_key(kept[i])} at {kept[i].source()}" for i in matches)
            raise ChangeError(f"cannot remove {spec!r}: it names {len(matches)} objects ({names}); say which")
        doc = kept.pop(matches[0])
        described.append(f"removed {document_key(doc)} ({doc.source()})")
    added, diagnostics = read_additions(add)
    for doc in added:
        key = document_key(doc)
        replaced = [i for i, old in enumerate(kept) if key is not None and document_key(old) == key]
        for i in reversed(replaced):  # `kubectl apply`: an object added again replaces the one of that name
            kept.pop(i)
        verb = "replaced" if replaced else "added"
        described.append(f"{verb} {key if key is not None else 'an unnamed document'} ({doc.source()})")
    return kept + added, diagnostics, described
