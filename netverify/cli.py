"""Command line: argparse only, no logic; heavy modules are imported inside the commands that need them."""

from __future__ import annotations

import argparse
import atexit
import contextlib
import gc
import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any, NoReturn

from netverify import __version__

CNI_CHOICES = ("generic", "calico", "cilium", "aws-vpc-cni")
EXIT_OK, EXIT_FOUND, EXIT_INPUT, EXIT_UNPROVEN = 0, 1, 2, 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="netverify",
        description="Prove who can talk to whom in a Kubernetes cluster, from its manifests, before deploying.",
    )
    parser.add_argument("--version", action="version", version=f"netverify {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    matrix = commands.add_parser(
        "matrix",
        help="connectivity map: which endpoints may send what to which",
        description="Compute the connectivity map of the manifests under PATH (files, directories, or - for stdin).",
    )
    matrix.add_argument("paths", nargs="+", metavar="PATH", help="file, directory (recursive), or - for stdin")
    matrix.add_argument("--format", "-f", choices=("text", "json", "csv", "md", "dot"), default="text")
    matrix.add_argument("--per-pod", action="store_true", help="list pods instead of workloads")
    _add_common(matrix)
    _add_dask(matrix)
    matrix.set_defaults(handler=run_matrix)

    check = commands.add_parser(
        "check",
        help="prove tenant isolation, or name every cross-tenant flow and the policy that opened it",
        description="Check the manifests under PATH against an isolation contract. Exit 0 when isolation holds, "
        "1 when it is violated, 2 on bad input or usage (a gate never passes on half the input), 3 with "
        "--strict when the input holds policy kinds that are not modelled (CiliumNetworkPolicy, Istio "
        "AuthorizationPolicy, ...), so isolation cannot be proven.",
    )
    check.add_argument("paths", nargs="+", metavar="PATH", help="file, directory (recursive), or - for stdin")
    check.add_argument(
        "--contract",
        "-c",
        metavar="FILE",
        help="isolation contract (default: every namespace is its own tenant, kube-system is shared)",
    )
    check.add_argument("--format", "-f", choices=("text", "json", "sarif", "junit", "md"), default="text")
    baseline = check.add_mutually_exclusive_group()
    baseline.add_argument(
        "--baseline",
        metavar="FILE",
        help="fail only on violations not in FILE (written by --write-baseline); baselined ones are listed",
    )
    baseline.add_argument(
        "--write-baseline",
        metavar="FILE",
        help="record today's failing violations in FILE, then check against it (adopting the gate on a "
        "repository that already leaks)",
    )
    check.add_argument(
        "--strict",
        action="store_true",
        help="exit 3 when policy kinds that are not modelled make isolation unprovable (default: a finding)",
    )
    _add_common(check)
    _add_dask(check)
    check.set_defaults(handler=run_check)

    explain = commands.add_parser(
        "explain",
        help="packet trace: every policy and rule consulted, in order, with file:line",
        description="Explain why traffic from A to B is allowed or denied: the source's egress and the "
        "destination's ingress, every tier, policy and rule consulted in evaluation order. Exit 0 when "
        "allowed (any service, without --port), 1 when denied, 2 on bad input or usage.",
    )
    explain.add_argument("paths", nargs="+", metavar="PATH", help="file, directory (recursive), or - for stdin")
    explain.add_argument(
        "--from",
        dest="src",
        required=True,
        metavar="A",
        help="namespace/name of a workload or pod, an IP address, `internet` (through every internet-facing ALB, "
        "and directly), or a load balancer `alb:<group>`",
    )
    explain.add_argument("--to", dest="dst", required=True, metavar="B", help="likewise")
    explain.add_argument("--port", metavar="PORT/PROTO", help="e.g. 5432/TCP or ICMP; default: every service")
    explain.add_argument("--format", "-f", choices=("text", "json"), default="text")
    _add_common(explain)
    explain.set_defaults(handler=run_explain)

    diff = commands.add_parser(
        "diff",
        help="flows added and removed between two versions (paths or git revisions)",
        description="Compare the connectivity of OLD and NEW, each a file, a directory, a git revision of the "
        "repository here (HEAD~1, origin/main, a tag, a sha; read without touching the working tree) or WORKTREE. "
        "An existing path wins over a revision of the same name. Exit 0 when connectivity is the same, 1 when "
        "it changed (see --fail-on), 2 on bad input or usage.",
    )
    diff.add_argument("old", metavar="OLD", help="file, directory, git revision, or WORKTREE")
    diff.add_argument("new", metavar="NEW", help="likewise")
    diff.add_argument(
        "paths", nargs="*", metavar="PATH", help="after --: files and directories inside both sides (default: all)"
    )
    diff.add_argument(
        "--fail-on",
        choices=("added", "removed", "any"),
        default="any",
        help="exit 1 only for flows added (a gate that allows tightening), removed, or either (default)",
    )
    diff.add_argument("--format", "-f", choices=("text", "json", "md"), default="text")
    diff.add_argument("--per-pod", action="store_true", help="list pods instead of workloads")
    _add_common(diff)
    diff.set_defaults(handler=run_diff)
    return parser


def _add_common(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--cni",
        choices=CNI_CHOICES,
        default="generic",
        help="implementation-defined behaviour to assume (default: generic, the conservative union)",
    )
    command.add_argument(
        "--pod-cidr",
        action="append",
        metavar="CIDR",
        help="where pods whose IP the manifests do not give may live (repeatable; default: the private "
        "ranges 10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7); `none`: CIDR rules never match them",
    )
    command.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of stdout")
    command.add_argument("--quiet", "-q", action="store_true", help="no progress bar, no warnings")
    command.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour the text report (default auto: only on a terminal, and never when NO_COLOR is set)",
    )


def _add_dask(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="compute the matrix on the dask.distributed scheduler at ADDRESS (e.g. tcp://10.0.0.5:8786), "
        "sharded by blocks of source rows; needs the netverify[dask] extra",
    )


def _pod_cidrs(args: argparse.Namespace) -> tuple[str, ...] | None:
    if not args.pod_cidr:
        return None
    if [c.lower() for c in args.pod_cidr] == ["none"]:
        return ()
    from netverify.model.addresses import parse_cidr

    for cidr in args.pod_cidr:
        parse_cidr(cidr)  # ValueError -> usage error with the message
    return tuple(args.pod_cidr)


def _read_stdin_guard(paths: Sequence[str]) -> str | None:
    if "-" in paths and sys.stdin is not None and sys.stdin.isatty():
        return "refusing to read manifests from a terminal; pipe them in (helm template . | netverify matrix -)"
    return None


def _print_diagnostics(diagnostics, quiet: bool) -> int:
    from netverify.model.diagnostics import Severity

    errors = 0
    for diagnostic in diagnostics:
        if diagnostic.severity is Severity.ERROR:
            errors += 1
            print(str(diagnostic), file=sys.stderr)
        elif not quiet and diagnostic.severity is Severity.WARNING:
            print(str(diagnostic), file=sys.stderr)
    return errors


def _write(text: str, output: str | None) -> None:
    if output:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()


def _color(args: argparse.Namespace) -> bool:
    """`--color always|never` wins; `auto` colours a terminal unless NO_COLOR is set (no-color.org: any
    non-empty value)."""
    if args.color != "auto":
        return args.color == "always"
    return args.output is None and sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def _stage_bars(args: argparse.Namespace):
    from netverify.report.progress import StageBars

    return StageBars(enabled=False if args.quiet else None)


@contextlib.contextmanager
def _reading_ahead(args: argparse.Namespace, command: str) -> Iterator[Any]:
    """Start parsing the input files in a helper process, and meanwhile import what `command` will need
    (pydantic, numpy, the kinds' loaders: a third of a second at 800 workloads that parsing no longer waits
    for). Yields the helper (None where it would not pay); a helper still running at the end is stopped."""
    from netverify.load.read_ahead import ReadAhead
    from netverify.load.sources import list_files

    files = list_files(args.paths)
    read_ahead = ReadAhead.start(files)
    _keep_until_exit(read_ahead)  # it holds every document it delivered
    try:
        if read_ahead is not None:
            from netverify.preload import preload

            preload(command, files)
        yield read_ahead
    finally:
        if read_ahead is not None:
            read_ahead.cancel()


def _analyze(args: argparse.Namespace, stages, extra_services=(), read_ahead=None):
    """The shared front of every command: read the inputs, report their problems, compute the matrix.

    Returns (matrix, number of input errors), or None when the inputs could not be read at all. `stages`
    draws a progress bar per long stage on a terminal; `read_ahead` is the helper already parsing the files.
    """
    problem = _read_stdin_guard(args.paths)
    if problem:
        print(f"netverify: {problem}", file=sys.stderr)
        return None
    dask = getattr(args, "dask", None)
    if dask is not None:
        from netverify.engine.sharding import require_distributed

        try:
            require_distributed()
        except ImportError as error:
            print(f"netverify: {error}", file=sys.stderr)
            return None
    from netverify.load.cluster_loader import load_cluster
    from netverify.pipeline import analyze_cluster

    try:
        cluster = load_cluster(args.paths, stages=stages, read_ahead=read_ahead)
    finally:
        stages.close()  # the diagnostics below must not be drawn over
    errors = _print_diagnostics(cluster.diagnostics, args.quiet)
    _keep_until_exit(cluster)
    try:
        matrix = analyze_cluster(
            cluster,
            args.cni,
            extra_services=extra_services,
            pod_cidrs=_pod_cidrs(args),
            dask=dask,
            stages=stages,
        )
    finally:
        stages.close()
    _keep_until_exit(matrix)
    return matrix, errors


def run_matrix(args: argparse.Namespace) -> int:
    with _reading_ahead(args, "matrix") as read_ahead:
        analyzed = _analyze(args, _stage_bars(args), read_ahead=read_ahead)
    if analyzed is None:
        return EXIT_INPUT
    matrix, errors = analyzed
    from netverify.report.matrix_formats import MATRIX_FORMATS, MatrixView

    _write(MATRIX_FORMATS[args.format](MatrixView(matrix, args.per_pod, _color(args))), args.output)
    return EXIT_INPUT if errors else EXIT_OK


def run_check(args: argparse.Namespace) -> int:
    with _reading_ahead(args, "check") as read_ahead:
        return _check(args, read_ahead)


def _check(args: argparse.Namespace, read_ahead) -> int:
    from netverify.report.check_formats import CHECK_FORMATS, CheckView
    from netverify.verify.contract_loader import load_contract
    from netverify.verify.isolation import check_isolation, contract_services

    contract, contract_errors = load_contract(args.contract)
    if contract is None:
        _print_diagnostics(contract_errors, args.quiet)
        return EXIT_INPUT
    entries = None
    if args.baseline:
        from netverify.verify.baseline import load_baseline

        entries, baseline_errors = load_baseline(args.baseline)
        if entries is None:
            _print_diagnostics(baseline_errors, args.quiet)
            return EXIT_INPUT
    stages = _stage_bars(args)
    analyzed = _analyze(args, stages, contract_services(contract), read_ahead)
    if analyzed is None:
        return EXIT_INPUT
    matrix, errors = analyzed
    try:
        result = check_isolation(matrix, contract, stages.stage("checking"))
    finally:
        stages.close()
    _keep_until_exit(result)
    if args.write_baseline:
        from netverify.verify.baseline import baseline_document, load_baseline

        _write(baseline_document(result), args.write_baseline)
        entries, _ = load_baseline(args.write_baseline)
    if entries is not None:
        from netverify.verify.baseline import apply_baseline

        apply_baseline(result, entries, args.baseline or args.write_baseline)
    _write(CHECK_FORMATS[args.format](CheckView(result, _color(args))), args.output)
    if errors:
        return EXIT_INPUT
    if result.violations:
        return EXIT_FOUND
    return EXIT_UNPROVEN if args.strict and not result.proven else EXIT_OK


def _resolve(matrix, ident: str):
    """An endpoint for --from/--to: a workload or bare pod, a pod of a workload, or an IP address."""
    try:
        return matrix.find(ident)
    except KeyError:
        return matrix.find(ident, per_pod=True)


def run_explain(args: argparse.Namespace) -> int:
    import numpy as np

    from netverify.engine.matrix import Endpoint
    from netverify.report.explain_formats import EXPLAIN_FORMATS, ExplainView
    from netverify.verify.contract import port_spec_service
    from netverify.verify.explain import explain_pair

    wanted = port_spec_service(args.port) if args.port else None
    analyzed = _analyze(args, _stage_bars(args), [wanted] if wanted else [])
    if analyzed is None:
        return EXIT_INPUT
    matrix, errors = analyzed
    from netverify.verify.explain_alb import INTERNET, internet_source, load_balancer_paths

    via_balancer = args.src == INTERNET or args.src.startswith("alb:")
    try:
        dst = _resolve(matrix, args.dst)
        if via_balancer and not dst.is_external:
            src = internet_source(matrix, dst) if args.src == INTERNET else None
            paths = load_balancer_paths(matrix, args.src, dst)
            if args.src != INTERNET and not any(
                lb.endpoint_id == args.src for lb in matrix.compiled.load_balancers.balancers
            ):
                raise KeyError(f"no load balancer {args.src!r}: expected alb:<IngressGroup or namespace/name>")
        else:
            src, paths = _resolve(matrix, args.src), []
    except KeyError as error:
        print(f"netverify: {error.args[0]}", file=sys.stderr)
        return EXIT_INPUT
    if dst.is_external and (src is None or src.is_external):
        print("netverify: at least one of --from/--to must be a pod or workload", file=sys.stderr)
        return EXIT_INPUT
    space = matrix.compiled.services
    atoms = list(range(space.size)) if wanted is None else np.flatnonzero(space.mask(wanted)).tolist()
    kind = lambda e: ("atom", e.atoms[0]) if e.is_external else ("class", e.class_index)  # noqa: E731
    groups = explain_pair(matrix.compiled, kind(src), kind(dst), atoms) if src is not None else []
    if wanted is not None:  # only the ALB paths that carry the asked service
        paths = [p for p in paths if p.hops and wanted.matches(p.hops[0].protocol, p.hops[0].port, {})]
    shown = src or Endpoint(args.src, "LoadBalancer")
    view = ExplainView(shown, dst, groups, space, _color(args), paths)
    _write(EXPLAIN_FORMATS[args.format](view), args.output)
    if errors:
        return EXIT_INPUT
    allowed = any(g.flow.allowed for g in groups) or any(p.reachable for p in paths)
    return EXIT_OK if allowed else EXIT_FOUND


def _print_side_diagnostics(loaded, quiet: bool) -> int:
    """Each side's problems tagged with the side; one found identically on both sides is said once."""
    from netverify.model.diagnostics import Severity

    old, new = ([str(d) for d in side.cluster.diagnostics] for side in loaded)
    errors = 0
    for side, other in zip(loaded, (new, old), strict=True):
        for diagnostic in side.cluster.diagnostics:
            both = str(diagnostic) in other
            if both and side is loaded[1]:
                continue
            where = "old and new" if both else side.side.label
            if diagnostic.severity is Severity.ERROR:
                errors += 1
                print(f"{diagnostic} [{where}]", file=sys.stderr)
            elif not quiet and diagnostic.severity is Severity.WARNING:
                print(f"{diagnostic} [{where}]", file=sys.stderr)
    return errors


def run_diff(args: argparse.Namespace) -> int:
    from netverify.load.revisions import SideError, load_side, resolve_side
    from netverify.pipeline import analyze_cluster
    from netverify.report.diff_formats import DIFF_FORMATS, DiffView
    from netverify.report.progress import ProgressBar
    from netverify.verify.diff import diff_matrices

    try:
        sides = [resolve_side("old", args.old), resolve_side("new", args.new)]
        loaded = [load_side(side, args.paths) for side in sides]
    except SideError as error:
        print(f"netverify: {error}", file=sys.stderr)
        return EXIT_INPUT
    for path in args.paths:
        missing = [side.side.label for side in loaded if path in side.missing]
        if len(missing) == 2:
            print(f"netverify: {path}: no such path in {args.old} nor in {args.new}", file=sys.stderr)
            return EXIT_INPUT
        if missing and not args.quiet:
            print(f"{path}: warning: no such path in {missing[0]}; compared as empty", file=sys.stderr)
    errors = _print_side_diagnostics(loaded, args.quiet)
    matrices = []
    for side in loaded:
        bar = ProgressBar(f"computing {side.side.role}", enabled=False if args.quiet else None)
        try:
            matrices.append(analyze_cluster(side.cluster, args.cni, progress=bar, pod_cidrs=_pod_cidrs(args)))
        finally:
            bar.close()
    result = diff_matrices(*matrices, per_pod=args.per_pod)
    view = DiffView(result, loaded[0].side.label, loaded[1].side.label, _color(args))
    _write(DIFF_FORMATS[args.format](view), args.output)
    if errors:
        return EXIT_INPUT
    failing = {"any": result.flows, "added": result.gained, "removed": result.lost}[args.fail_on]
    return EXIT_FOUND if failing else EXIT_OK


def _parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """`diff OLD NEW --fail-on added -- PATH...`: argparse fills the PATH positional before it reaches the
    options, so what follows `--` is taken off first and handed to diff as its paths."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["diff"] and "--" in argv:
        cut = argv.index("--")
        args = parser.parse_args(argv[:cut])
        args.paths = [*args.paths, *argv[cut + 1 :]]
        return args
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command in this process; the cyclic collector is back on afterwards if it was on before."""
    collecting = gc.isenabled()
    try:
        return _command(argv)
    finally:
        if collecting:  # in-process callers (tests, notebooks) get their collector back
            gc.enable()


def _command(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = _parse(parser, argv)
    # One command builds millions of long-lived objects (documents, positions, policies) that all live until
    # it ends; the cyclic collector would walk them again and again for nothing (~15% of a run's CPU).
    gc.disable()
    return _run(args)


#: In the console script, what a command built is kept here until `os._exit`: freeing the model and the
#: matrix object by object when the command returns took 11 ms at 800 workloads, for a process about to end.
#: None in-process (tests, notebooks), where a command's results are freed as usual.
_kept: list[Any] | None = None


def _keep_until_exit(value: Any) -> None:
    if _kept is not None:
        _kept.append(value)


def run(argv: Sequence[str] | None = None) -> NoReturn:
    """The console script: one command, then exit without tearing the interpreter down.

    A command ends with millions of objects alive (documents, positions, tables); freeing them one by one
    at exit took longer than some whole commands (60 ms of 0.9 s at 800 workloads). The exit handlers that
    libraries registered still run, and output is flushed, before the process ends.
    """
    # Pydantic plugins (logfire, ...) found through package metadata would be imported to instrument
    # netverify's own input schemas, which nobody observes: up to a tenth of a second per run. A value the
    # user set wins; in-process callers of `main` keep their plugins.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    global _kept
    _kept = []
    code = _command(argv)  # not main: turning the collector back on would make it walk everything once more
    try:
        atexit._run_exitfuncs()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # a closed pipe or stream: nothing left to say on it
                pass
        os._exit(code)


def _run(args: argparse.Namespace) -> int:
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        print("netverify: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (`netverify matrix . | head`): not an error of ours
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except OSError as error:
        print(f"netverify: {error}", file=sys.stderr)
        return EXIT_INPUT
    except ValueError as error:  # a bad option value found after parsing (e.g. --pod-cidr)
        print(f"netverify: {error}", file=sys.stderr)
        return EXIT_INPUT
    except Exception as error:  # never a traceback for users; NETVERIFY_DEBUG=1 shows it for developers
        if os.environ.get("NETVERIFY_DEBUG"):
            raise
        print(
            f"netverify: internal error: {type(error).__name__}: {error} "
            "(this is a bug; rerun with NETVERIFY_DEBUG=1 and report the traceback)",
            file=sys.stderr,
        )
        return EXIT_INPUT
