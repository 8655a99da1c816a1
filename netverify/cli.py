"""Command line: argparse only, no logic; heavy modules are imported inside the commands that need them."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

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
    matrix.add_argument("--format", "-f", choices=("text", "json", "csv", "md"), default="text")
    matrix.add_argument("--per-pod", action="store_true", help="list pods instead of workloads")
    _add_common(matrix)
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
    check.add_argument("--format", "-f", choices=("text", "json", "md"), default="text")
    check.add_argument(
        "--strict",
        action="store_true",
        help="exit 3 when policy kinds that are not modelled make isolation unprovable (default: a finding)",
    )
    _add_common(check)
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
        "--from", dest="src", required=True, metavar="A", help="namespace/name of a workload or pod, or an IP address"
    )
    explain.add_argument("--to", dest="dst", required=True, metavar="B", help="likewise")
    explain.add_argument("--port", metavar="PORT/PROTO", help="e.g. 5432/TCP or ICMP; default: every service")
    explain.add_argument("--format", "-f", choices=("text", "json"), default="text")
    _add_common(explain)
    explain.set_defaults(handler=run_explain)
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
    return args.output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ


def _analyze(args: argparse.Namespace, label: str, extra_services=()):
    """The shared front of every command: read the inputs, report their problems, compute the matrix.

    Returns (matrix, number of input errors), or None when the inputs could not be read at all.
    """
    problem = _read_stdin_guard(args.paths)
    if problem:
        print(f"netverify: {problem}", file=sys.stderr)
        return None
    from netverify.load.cluster_loader import load_cluster
    from netverify.pipeline import analyze_cluster
    from netverify.report.progress import ProgressBar

    cluster = load_cluster(args.paths)
    errors = _print_diagnostics(cluster.diagnostics, args.quiet)
    bar = ProgressBar(label, enabled=False if args.quiet else None)
    try:
        matrix = analyze_cluster(
            cluster, args.cni, progress=bar, extra_services=extra_services, pod_cidrs=_pod_cidrs(args)
        )
    finally:
        bar.close()
    return matrix, errors


def run_matrix(args: argparse.Namespace) -> int:
    analyzed = _analyze(args, "computing")
    if analyzed is None:
        return EXIT_INPUT
    matrix, errors = analyzed
    from netverify.report.matrix_formats import MATRIX_FORMATS, MatrixView

    _write(MATRIX_FORMATS[args.format](MatrixView(matrix, args.per_pod, _color(args))), args.output)
    return EXIT_INPUT if errors else EXIT_OK


def run_check(args: argparse.Namespace) -> int:
    from netverify.report.check_formats import CHECK_FORMATS, CheckView
    from netverify.verify.contract_loader import load_contract
    from netverify.verify.isolation import check_isolation, contract_services

    contract, contract_errors = load_contract(args.contract)
    if contract is None:
        _print_diagnostics(contract_errors, args.quiet)
        return EXIT_INPUT
    analyzed = _analyze(args, "checking", contract_services(contract))
    if analyzed is None:
        return EXIT_INPUT
    matrix, errors = analyzed
    result = check_isolation(matrix, contract)
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

    from netverify.report.explain_formats import EXPLAIN_FORMATS, ExplainView
    from netverify.verify.contract import port_spec_service
    from netverify.verify.explain import explain_pair

    wanted = port_spec_service(args.port) if args.port else None
    analyzed = _analyze(args, "computing", [wanted] if wanted else [])
    if analyzed is None:
        return EXIT_INPUT
    matrix, errors = analyzed
    try:
        src, dst = _resolve(matrix, args.src), _resolve(matrix, args.dst)
    except KeyError as error:
        print(f"netverify: {error.args[0]}", file=sys.stderr)
        return EXIT_INPUT
    if src.is_external and dst.is_external:
        print("netverify: at least one of --from/--to must be a pod or workload", file=sys.stderr)
        return EXIT_INPUT
    space = matrix.compiled.services
    atoms = list(range(space.size)) if wanted is None else np.flatnonzero(space.mask(wanted)).tolist()
    kind = lambda e: ("atom", e.atoms[0]) if e.is_external else ("class", e.class_index)  # noqa: E731
    groups = explain_pair(matrix.compiled, kind(src), kind(dst), atoms)
    _write(EXPLAIN_FORMATS[args.format](ExplainView(src, dst, groups, space, _color(args))), args.output)
    if errors:
        return EXIT_INPUT
    return EXIT_OK if any(g.flow.allowed for g in groups) else EXIT_FOUND


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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
