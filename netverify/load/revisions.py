"""One side of `netverify diff`: manifests from a path, the working tree, or a git revision.

A revision is read straight from the object database (`git ls-tree` + `git cat-file --batch`), so the
working tree is never touched and nothing is written to disk; every file keeps its repository-relative
name, which is what file:line messages show.
"""

from __future__ import annotations

import os
import posixpath
import subprocess
from dataclasses import dataclass, field

from netverify.load.cluster_loader import build_cluster, load_cluster
from netverify.load.documents import Document
from netverify.load.sources import MANIFEST_EXTENSIONS, read_blob
from netverify.model.cluster import Cluster
from netverify.model.diagnostics import Diagnostic, Severity
from netverify.model.source import SourceRef

WORKTREE = "WORKTREE"  # the working tree of the repository the command runs in, as git itself would see it
SYMLINK_MODE = "120000"


class SideError(ValueError):
    """OLD or NEW cannot be read at all (not a path, not a revision, no repository): a usage error."""


@dataclass(frozen=True)
class Side:
    role: str  # "old" or "new"
    spec: str  # as the user typed it
    tree: str | None = None  # the git tree when the side is a revision
    commit: str | None = None

    @property
    def label(self) -> str:
        """How messages name this side: `old: HEAD~1 (3f2a9c1d0b7e)`."""
        short = f" ({self.commit[:12]})" if self.commit and not self.commit.startswith(self.spec) else ""
        return f"{self.role}: {self.spec}{short}"


@dataclass
class LoadedSide:
    side: Side
    cluster: Cluster
    missing: list[str] = field(default_factory=list)  # -- PATHs that name nothing in a revision


def _git(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", *args], input=stdin, capture_output=True, check=False)
    except FileNotFoundError:
        raise SideError("git is not installed (needed to read a revision)") from None


def resolve_side(role: str, spec: str) -> Side:
    """An existing path wins over a revision of the same name; `WORKTREE` is the working tree."""
    if spec == "-":
        raise SideError(f"{role}: standard input cannot be one side of a diff; give a path or a git revision")
    if os.path.exists(spec) or spec == WORKTREE:
        return Side(role, spec)
    inside = _git("rev-parse", "--is-inside-work-tree")
    if inside.returncode != 0:
        raise SideError(
            f"{role}: {spec!r} is not an existing path, and this is not a git repository to read a revision from"
        )
    tree = _git("rev-parse", "--verify", "--quiet", f"{spec}^{{tree}}")
    if tree.returncode != 0:
        raise SideError(f"{role}: {spec!r} is neither an existing path nor a revision of this repository")
    commit = _git("rev-parse", "--verify", "--quiet", f"{spec}^{{commit}}")
    return Side(
        role,
        spec,
        tree.stdout.decode().strip(),
        commit.stdout.decode().strip() if commit.returncode == 0 else None,
    )


def load_side(side: Side, paths: list[str]) -> LoadedSide:
    """The side's cluster; `paths` (the command's `-- PATH...`) select files inside each side."""
    if side.tree is not None:
        return _load_revision(side, paths)
    if side.spec == WORKTREE and not os.path.exists(side.spec):
        return LoadedSide(side, load_cluster(paths or [_worktree_root()]))
    if not paths:
        return LoadedSide(side, load_cluster([side.spec]))
    if not os.path.isdir(side.spec):
        raise SideError(f"{side.role}: {side.spec!r} is a file; -- PATH... selects files inside directories")
    return LoadedSide(side, load_cluster([os.path.join(side.spec, p) for p in paths]))


def _worktree_root() -> str:
    """The repository's top directory, as a path relative to here (so messages stay short)."""
    top = _git("rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise SideError(f"{WORKTREE}: not inside a git repository")
    return os.path.relpath(top.stdout.decode().strip())


def _repository_paths(paths: list[str]) -> list[str]:
    """`-- PATH...` as typed (relative to here) -> repository-relative, as `ls-tree --full-name` names files."""
    prefix = _git("rev-parse", "--show-prefix").stdout.decode().strip()
    found = []
    for path in paths:
        if os.path.isabs(path):
            path, prefix = os.path.relpath(path, _git("rev-parse", "--show-toplevel").stdout.decode().strip()), ""
        joined = posixpath.normpath(posixpath.join(prefix, path.replace(os.sep, "/")))
        found.append("" if joined == "." else joined)
    return found


def _selected(name: str, roots: list[str]) -> bool:
    """What reading the same paths from disk would read: a file named outright, or manifests under a
    directory with no hidden component below it (as the directory walk skips `.git`, `.github`, ...)."""
    for root in roots:
        if name == root:
            return True
        if root and not name.startswith(root + "/"):
            continue
        below = name[len(root) + 1 :] if root else name
        if not any(part.startswith(".") for part in below.split("/")) and name.lower().endswith(MANIFEST_EXTENSIONS):
            return True
    return False


def _load_revision(side: Side, paths: list[str]) -> LoadedSide:
    assert side.tree is not None
    roots = _repository_paths(paths) if paths else [""]
    listing = _git("ls-tree", "-r", "-z", "--full-tree", "--full-name", side.tree)
    if listing.returncode != 0:
        raise SideError(f"{side.label}: cannot list files: {listing.stderr.decode().strip()}")
    entries: list[tuple[str, str]] = []  # (name, blob)
    names: list[str] = []
    diagnostics: list[Diagnostic] = []
    for record in listing.stdout.decode("utf-8", errors="surrogateescape").split("\0"):
        if not record:
            continue
        meta, name = record.split("\t", 1)
        mode, kind, blob = meta.split()
        names.append(name)
        if kind != "blob" or not _selected(name, roots):
            continue
        if mode == SYMLINK_MODE:
            diagnostics.append(
                Diagnostic(
                    Severity.WARNING,
                    "symbolic link in a git revision is not followed; its target is read only if selected itself",
                    SourceRef(name, 0),
                    "symlink",
                )
            )
            continue
        entries.append((name, blob))
    entries.sort(key=lambda entry: entry[0].split("/"))  # the directory walk's order: depth first, by name
    missing = [
        path
        for path, root in zip(paths, roots, strict=False)  # no paths: one root, the whole tree, never missing
        if root and not any(name == root or name.startswith(root + "/") for name in names)
    ]
    documents: list[Document] = []
    for (name, _), raw in zip(entries, _read_blobs([blob for _, blob in entries]), strict=True):
        docs, diags = read_blob(raw, name)
        documents.extend(docs)
        diagnostics.extend(diags)
    return LoadedSide(side, build_cluster(documents, diagnostics), missing)


def _read_blobs(blobs: list[str]) -> list[bytes]:
    """Contents of the blobs, in order, from one `git cat-file --batch` run."""
    if not blobs:
        return []
    batch = _git("cat-file", "--batch", stdin="".join(f"{blob}\n" for blob in blobs).encode())
    if batch.returncode != 0:
        raise SideError(f"cannot read files from git: {batch.stderr.decode().strip()}")
    out = batch.stdout
    contents: list[bytes] = []
    at = 0
    for _ in blobs:
        header_end = out.index(b"\n", at)
        size = int(out[at:header_end].split()[2])
        contents.append(out[header_end + 1 : header_end + 1 + size])
        at = header_end + 1 + size + 1  # content, then a newline
    return contents
