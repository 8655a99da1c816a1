"""User inputs (paths, directories, standard input, YAML text, Python objects) -> positioned Documents.

Everything that can go wrong with the input becomes a Diagnostic, so one unreadable file or broken
document never hides the problems (or the verdicts) of the others.
"""

from __future__ import annotations

import bisect
import datetime
import errno
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TextIO

from netverify.load.documents import Document, SourceMap
from netverify.load.formats import is_cloudformation_template
from netverify.load.read_ahead import ReadAhead
from netverify.model.diagnostics import Diagnostic, Severity
from netverify.model.source import SourceRef

if TYPE_CHECKING:
    import yaml

    from netverify.load.yamltree import StreamBuilder

MAX_FILE_BYTES = 64 * 1024 * 1024
MANIFEST_EXTENSIONS = (".yaml", ".yml", ".json")
_KUBERNETES_OBJECT = "expected a Kubernetes object (a mapping with apiVersion and kind)"
_NOT_TEXT = "not a text file (cannot decode as UTF-8)"  # a whole-blob problem, when no position is known
_NOT_TEXT_BECAUSE = "not a text file: {what} (expected a UTF-8 or UTF-16 YAML or JSON manifest)"
_HELM_SOURCE = re.compile(r"^#[ \t]*Source:[ \t]*(\S[^\r\n]*?)[ \t]*\r?$", re.MULTILINE)
_YAML_TEXT_STARTS = ("apiVersion:", "kind:", "---")

Source = str | os.PathLike[str] | dict[str, Any] | list[Any]
Progress = Callable[[int, int], None]  # (done, total)


def read_sources(
    sources: Iterable[Source],
    stdin: TextIO | None = None,
    progress: Progress | None = None,
    order: list[str] | None = None,
    read_ahead: ReadAhead | None = None,
) -> tuple[list[Document], list[Diagnostic]]:
    """Read every source in order; a file reached twice (given twice, or via a directory) is read once.

    `progress(done, total)` is told after each file of a path (a directory's files are listed first).
    `order`, when given, receives the name of every file in the order it was read (to report in that order).
    `read_ahead`: a helper already parsing these paths' files (`list_files`), started by the caller before
    its imports; without one, a helper is started here when there is enough to parse.
    """
    if order is None:
        order = []
    if isinstance(sources, (str, dict, os.PathLike)):  # a lone source, not an iterable of them
        sources = [sources]
    docs: list[Document] = []
    diags: list[Diagnostic] = []
    seen: set[str] = set()
    python_map = SourceMap("<python>")
    for source in sources:
        if isinstance(source, dict):
            _add_object(source, python_map, None, docs, diags)
        elif isinstance(source, (list, tuple)):
            for index, item in enumerate(source):
                _add_object(item, python_map, None, docs, diags, f"item {index} of the list")
        elif isinstance(source, str) and _looks_like_yaml(source):
            order.append("<string>")
            _extend(read_text(source, "<string>"), docs, diags)
        elif isinstance(source, str) and source == "-":
            order.append("<stdin>")
            _extend(_read_stdin(sys.stdin if stdin is None else stdin), docs, diags)
        elif isinstance(source, (str, os.PathLike)):
            _read_path(os.fsdecode(os.fspath(source)), seen, docs, diags, progress, order, read_ahead)
        else:
            diags.append(
                _error(
                    f"cannot read a source of type {type(source).__name__} "
                    "(expected a path, '-', YAML text, a dict or a list of dicts)"
                )
            )
    return docs, diags


def read_text(text: str, name: str) -> tuple[list[Document], list[Diagnostic]]:
    """Parse a YAML (or JSON) stream; documents before a syntax error are kept."""
    docs: list[Document] = []
    diags: list[Diagnostic] = []
    if "\x00" in text:
        where = _text_ref(text, text.index("\x00"), name)
        return docs, [_error(_NOT_TEXT_BECAUSE.format(what="binary data (a NUL character)"), where)]
    # PyYAML and the readers are imported here, not with this module: with a read-ahead helper parsing,
    # the main process only lists files, and this keeps PyYAML's import off its critical path.
    import yaml

    from netverify.load.block_yaml import read_block_documents
    from netverify.load.yamltree import DocumentError, StreamBuilder

    helm_lines, helm_origins = _helm_sources(text)
    builder: StreamBuilder | None = None
    previous_end = -1
    try:
        fast = read_block_documents(text)
        if fast is None:
            builder = StreamBuilder(text)
        for built in fast if fast is not None else builder.documents():
            if isinstance(built, DocumentError):
                diags.append(_error(built.message, SourceRef(name, built.line, built.column)))
                continue
            origin = None
            if helm_lines:
                at = bisect.bisect_left(helm_lines, built.start_line) - 1
                if at >= 0 and helm_lines[at] > previous_end:
                    origin = helm_origins[at]
                previous_end = built.end_line
            if built.tags and not is_cloudformation_template(built.data):
                tag, (line, column) = min(built.tags.values(), key=lambda found: found[1])
                message = f"invalid YAML: unknown tag {tag!r} (expected plain YAML; only CloudFormation uses tags)"
                diags.append(_error(message, SourceRef(name, line, column)))
                continue
            if built.data is not None:
                tags = {path: tag for path, (tag, _) in built.tags.items()}
                _add_object(built.data, SourceMap(name, built.positions, tags), origin, docs, diags)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = SourceRef(name, mark.line + 1, mark.column + 1) if mark else SourceRef(name, 0)
        diags.append(_error(f"invalid YAML: {_syntax_problem(exc)} (expected valid YAML syntax)", where))
    except yaml.reader.ReaderError as exc:
        diags.append(_error(f"invalid YAML: {exc.reason} (expected valid YAML syntax)", _offset_ref(text, exc, name)))
    except yaml.YAMLError as exc:
        diags.append(_error(f"invalid YAML: {exc} (expected valid YAML syntax)", SourceRef(name, 0)))
    finally:
        if builder is not None:
            builder.close()
    return docs, diags


def read_blob(raw: bytes, name: str) -> tuple[list[Document], list[Diagnostic]]:
    """File content that does not come from the file system (a git blob), held to the same limits as a file."""
    if len(raw) > MAX_FILE_BYTES:
        return [], [_error(_too_big(), SourceRef(name, 0))]
    text = _decode(raw)
    if text is None:
        return [], [_error(_NOT_TEXT, SourceRef(name, 0))]
    return read_text(text, name)


def _syntax_problem(exc: yaml.MarkedYAMLError) -> str:
    """libyaml's problem, plus where the construct it was reading began when that is elsewhere."""
    problem = exc.problem or exc.context or "syntax error"
    context, start, end = exc.context, exc.context_mark, exc.problem_mark
    if exc.problem and context and start is not None and (end is None or start.line != end.line):
        problem += f" {context} that starts at line {start.line + 1}, column {start.column + 1}"
    return problem


def type_name(value: Any) -> str:
    """How a YAML value reads to a user ("a list", "an integer"), for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return "a date"
    if isinstance(value, bytes):
        return "binary data"
    return f"a {type(value).__name__}"


def _looks_like_yaml(text: str) -> bool:
    return "\n" in text or text.lstrip().startswith(_YAML_TEXT_STARTS)


def _extend(result: tuple[list[Document], list[Diagnostic]], docs: list[Document], diags: list[Diagnostic]) -> None:
    docs.extend(result[0])
    diags.extend(result[1])


def _error(message: str, source: SourceRef | None = None) -> Diagnostic:
    return Diagnostic(Severity.ERROR, message, source)


def _add_object(
    data: Any,
    source_map: SourceMap,
    origin: str | None,
    docs: list[Document],
    diags: list[Diagnostic],
    where: str = "",
) -> None:
    """One top-level object; `kind: *List` with an `items` list becomes one Document per item."""
    suffix = f" ({where})" if where else ""
    if not isinstance(data, dict):
        diags.append(_error(f"{_KUBERNETES_OBJECT}, found {type_name(data)}{suffix}", source_map.locate(())))
        return
    kind = data.get("kind")
    items = data.get("items")
    if not (isinstance(kind, str) and kind.endswith("List") and isinstance(items, list)):
        docs.append(Document(data, source_map, (), origin))
        return
    for index, item in enumerate(items):
        base = ("items", index)
        if isinstance(item, dict):
            docs.append(Document(item, source_map, base, origin))
        else:
            message = f"{_KUBERNETES_OBJECT}, found {type_name(item)} (items[{index}] of a {kind}){suffix}"
            diags.append(_error(message, source_map.locate(base)))


def _helm_sources(text: str) -> tuple[list[int], list[str]]:
    """0-based lines of the `# Source: <template>` comments that `helm template` writes, and the templates."""
    lines: list[int] = []
    origins: list[str] = []
    line = 0
    last = 0
    for match in _HELM_SOURCE.finditer(text):
        line += text.count("\n", last, match.start())
        last = match.start()
        lines.append(line)
        origins.append(match.group(1))
    return lines, origins


def _offset_ref(text: str, exc: yaml.reader.ReaderError, name: str) -> SourceRef:
    """libyaml reports reader errors as a byte offset into the UTF-8 text; turn it into line and column."""
    position = exc.position if isinstance(exc.position, int) else 0
    before = text.encode("utf-8")[:position].decode("utf-8", errors="ignore")
    line = before.count("\n") + 1
    return SourceRef(name, line, len(before) - (before.rfind("\n") + 1) + 1)


def _too_big() -> str:
    return f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB (expected Kubernetes manifests)"


def _text_ref(text: str, offset: int, name: str) -> SourceRef:
    """Line and column (1-based) of a character offset."""
    line_start = text.rfind("\n", 0, offset) + 1
    return SourceRef(name, text.count("\n", 0, offset) + 1, offset - line_start + 1)


def _decode(raw: bytes) -> str | None:
    return _decode_with_position(raw, "")[0]


def _decode_with_position(raw: bytes, name: str) -> tuple[str | None, Diagnostic | None]:
    """The text, or the position of the first byte that is not UTF-8 (UTF-16 with a byte order mark)."""
    try:
        if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            return raw.decode("utf-16"), None
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        good = raw[: exc.start].decode(exc.encoding, errors="replace")
        what = f"byte 0x{raw[exc.start]:02x} is not valid {exc.encoding.upper().removesuffix('-SIG')}"
        return None, _error(_NOT_TEXT_BECAUSE.format(what=what), _text_ref(good, len(good), name))


def _read_stdin(stream: TextIO) -> tuple[list[Document], list[Diagnostic]]:
    name = "<stdin>"
    try:
        text = stream.read(MAX_FILE_BYTES + 1)
    except UnicodeDecodeError as exc:
        return [], [
            _error(
                _NOT_TEXT_BECAUSE.format(what=f"cannot decode as {stream.encoding or 'text'}: {exc.reason}"),
                SourceRef(name, 0),
            )
        ]
    except OSError as exc:
        return [], [_error(f"{name}: cannot read: {exc.strerror or exc}")]
    if len(text) > MAX_FILE_BYTES:
        return [], [_error(_too_big(), SourceRef(name, 0))]
    return read_text(text, name)


def _read_path(
    path: str,
    seen: set[str],
    docs: list[Document],
    diags: list[Diagnostic],
    progress: Progress | None = None,
    order: list[str] | None = None,
    read_ahead: ReadAhead | None = None,
) -> None:
    todo = _unseen_files(path, seen, diags)
    if todo is None:
        diags.append(_error(f"{path}: no such file or directory"))
        return
    if order is not None:
        order.extend(display for _, display in todo)
    helper = read_ahead if read_ahead is not None else ReadAhead.start(todo)
    results = helper.collect() if helper is not None else {}
    for done, entry in enumerate(todo, 1):
        result = results.get(entry)
        _extend(result if result is not None else read_file(*entry), docs, diags)
        if progress is not None:
            progress(done, len(todo))


def read_file(fs_path: str, display: str) -> tuple[list[Document], list[Diagnostic]]:
    """Read and parse one file; every problem becomes a diagnostic."""
    diags: list[Diagnostic] = []
    text = _read_file(fs_path, display, diags)
    if text is None:
        return [], diags
    return read_text(text, display)


def list_files(paths: Iterable[str]) -> list[tuple[str, str]]:
    """The manifest files `read_sources` would read for these paths, as (path to open, name to show): what a
    read-ahead helper can start on before the reading itself (which reports any problem of the listing)."""
    found: list[tuple[str, str]] = []
    seen: set[str] = set()
    for path in paths:
        if path == "-" or _looks_like_yaml(path):
            continue
        # only regular files: a helper must not drain a pipe (`<(helm template .)`) the reading needs
        found += [entry for entry in _unseen_files(path, seen, []) or () if os.path.isfile(entry[0])]
    return found


def _unseen_files(path: str, seen: set[str], diags: list[Diagnostic]) -> list[tuple[str, str]] | None:
    """A directory's manifest files (`_walk`) or a file itself, leaving out what `seen` holds (by real path)
    and adding the rest; None when the path does not exist."""
    if os.path.isdir(path):
        files: Iterable[tuple[str, str]] = _walk(path, diags)
    elif os.path.exists(path):
        files = [(path, path)]
    else:
        return None
    unseen: list[tuple[str, str]] = []
    for fs_path, display in files:
        real = os.path.realpath(fs_path)
        if real not in seen:
            seen.add(real)
            unseen.append((fs_path, display))
    return unseen


def _read_file(fs_path: str, display: str, diags: list[Diagnostic]) -> str | None:
    try:
        with open(fs_path, "rb") as stream:
            if os.fstat(stream.fileno()).st_size > MAX_FILE_BYTES:
                raw = b""
                too_big = True
            else:
                raw = stream.read(MAX_FILE_BYTES + 1)  # also bounds pipes and /dev files, whose size is 0
                too_big = len(raw) > MAX_FILE_BYTES
    except FileNotFoundError:
        diags.append(_error(f"{display}: no such file or directory"))
        return None
    except OSError as exc:
        diags.append(_error(f"{display}: cannot read: {exc.strerror or exc}"))
        return None
    if too_big:
        diags.append(_error(_too_big(), SourceRef(display, 0)))
        return None
    text, problem = _decode_with_position(raw, display)
    if problem is not None:
        diags.append(problem)
    return text


def _join(display: str, name: str) -> str:
    return name if display in ("", ".", "./") else os.path.join(display, name)


def _link_problem(path: str) -> str:
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop (expected a link to a manifest file); skipped"
    return "no such file or directory (broken symbolic link)"


def _is_regular_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()  # follows symbolic links; False for FIFOs, sockets and devices
    except OSError:
        return False


def _walk(top: str, diags: list[Diagnostic]) -> Iterator[tuple[str, str]]:
    """Manifest files under `top` as (path to open, name to show), depth-first in name order.

    Hidden entries (`.git`, `.venv`, `.gitlab-ci.yml`) are skipped; symlinked directories are followed, but
    each real directory is listed once, so a link back up the tree cannot loop.
    """
    visited = {os.path.realpath(top)}

    def listing(fs_path: str, display: str) -> list[tuple[os.DirEntry[str], str]]:
        try:
            with os.scandir(fs_path) as scan:
                entries = sorted((e for e in scan if not e.name.startswith(".")), key=lambda e: e.name)
        except OSError as exc:
            diags.append(_error(f"{display}: cannot read directory: {exc.strerror or exc}"))
            return []
        return [(entry, _join(display, entry.name)) for entry in reversed(entries)]

    stack = listing(top, top)
    while stack:
        entry, display = stack.pop()
        try:
            is_dir = entry.is_dir()
        except OSError:
            is_dir = False
        if is_dir:
            real = os.path.realpath(entry.path)
            if real not in visited:
                visited.add(real)
                stack.extend(listing(entry.path, display))
        elif entry.name.lower().endswith(MANIFEST_EXTENSIONS):
            if entry.is_symlink() and not os.path.exists(entry.path):
                diags.append(_error(f"{display}: {_link_problem(entry.path)}"))
            elif not _is_regular_file(entry):
                # a FIFO would block the read forever, a device could stream without end
                diags.append(_error(f"{display}: not a regular file (expected a manifest file); skipped"))
            else:
                yield entry.path, display
