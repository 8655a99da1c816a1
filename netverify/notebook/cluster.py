"""A loaded policy repository in a notebook: the model the CLI builds, with its questions as methods.

Loading never raises on bad manifests: problems are `diagnostics` (file:line: message), shown in the
display, and the rest of the input is still analysed, as with the CLI.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from netverify.engine.matrix import Endpoint
from netverify.load.changes import apply_changes
from netverify.load.cluster_loader import build_cluster
from netverify.load.documents import Document
from netverify.load.sources import read_sources
from netverify.model.diagnostics import Diagnostic, Severity
from netverify.notebook import html

if TYPE_CHECKING:
    import networkx

    from netverify.notebook.check_report import CheckReport
    from netverify.notebook.explanation import Explanation
    from netverify.notebook.reachability import Reachability
    from netverify.verify.contract import Contract

CNI_CHOICES = ("generic", "calico", "cilium", "aws-vpc-cni")


class InputProblemError(ValueError):
    """An argument the API cannot use (a broken contract, an unknown endpoint), with file:line when known."""

    def __init__(self, message: str, diagnostics: Iterable[Diagnostic] = ()):
        self.diagnostics = list(diagnostics)
        details = "".join(f"\n  {d}" for d in self.diagnostics)
        super().__init__(message + details)


def _flatten(sources: tuple[Any, ...]) -> list[Any]:
    """`load("a/", "b.yaml")`, `load(["a/", "b.yaml"])` and `load([{...}, {...}])` all mean the same."""
    flat: list[Any] = []
    for source in sources:
        if isinstance(source, (list, tuple)) and not all(isinstance(item, dict) for item in source):
            flat.extend(source)
        else:
            flat.append(source)
    return flat


def load(*sources: Any, cni: str = "generic", pod_cidrs: Iterable[str] | None = None) -> LoadedCluster:
    """Read manifests: paths (files or directories), YAML strings, dicts or lists of dicts.

    `cni` and `pod_cidrs` mean what `--cni` and `--pod-cidr` mean on the command line (`pod_cidrs=[]`:
    CIDR rules never match pods whose address the manifests do not give).
    """
    if cni not in CNI_CHOICES:
        raise ValueError(f"cni must be one of {', '.join(CNI_CHOICES)}, not {cni!r}")
    cidrs = None if pod_cidrs is None else tuple(pod_cidrs)
    if cidrs:
        from netverify.model.addresses import parse_cidr

        for cidr in cidrs:
            parse_cidr(cidr)  # ValueError names the bad CIDR
    documents, diagnostics = read_sources(_flatten(sources))
    return LoadedCluster(documents, diagnostics, cni, cidrs)


class LoadedCluster:
    """One input, modelled once; `matrix()` is computed on first use and cached.

    `model` is the netverify.model Cluster (namespaces, pod groups, policies with file:line).
    """

    def __init__(
        self,
        documents: list[Document],
        read_diagnostics: list[Diagnostic],
        cni: str = "generic",
        pod_cidrs: tuple[str, ...] | None = None,
        changes: tuple[str, ...] = (),
        base: LoadedCluster | None = None,
    ):
        self._documents = documents
        self._read_diagnostics = read_diagnostics
        self.cni = cni
        self.pod_cidrs = pod_cidrs
        self.changes = changes  # what with_changes did to get here, one line each
        self.base = base  # the cluster these changes were applied to
        self.model = build_cluster(documents, read_diagnostics)
        self._analyses: dict[tuple, Reachability] = {}

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return self.model.diagnostics

    @property
    def errors(self) -> list[Diagnostic]:
        return self.model.errors

    # ---- analysis ----------------------------------------------------------------------------

    def _analyze(self, extra_services: tuple = ()) -> Reachability:
        """The one place a matrix is computed (per set of extra service cuts a contract asks for).

        A what-if cluster (`base` set) whose base already has this matrix is reanalysed from it when only
        policies changed: only the classes the changed policies apply to are evaluated again, with the
        same result as a full analysis (`pipeline.reanalyze_cluster`).
        """
        if extra_services not in self._analyses:
            from netverify.notebook.reachability import Reachability
            from netverify.pipeline import analyze_cluster

            base = self.base._analyses.get(extra_services) if self.base is not None else None
            if base is not None:
                engine = self._reanalyze(base.engine)
            else:
                engine = analyze_cluster(
                    self.model, self.cni, extra_services=extra_services, pod_cidrs=self.pod_cidrs
                )
            self._analyses[extra_services] = Reachability(engine)
        return self._analyses[extra_services]

    def _reanalyze(self, previous):
        """This cluster's matrix from its base's: the policies that differ are the change (the rest of the
        model is compared inside `reanalyze_cluster`, which analyses afresh when anything else differs)."""
        from collections import Counter

        from netverify.pipeline import PolicyChange, reanalyze_cluster

        before, after = Counter(previous.compiled.cluster.policies), Counter(self.model.policies)
        change = PolicyChange(added=tuple((after - before).elements()), removed=tuple((before - after).elements()))
        return reanalyze_cluster(previous, self.model, change, keep_previous=True)

    def matrix(self) -> Reachability:
        return self._analyze()

    def explain(self, src: str | Endpoint, dst: str | Endpoint, port: str | None = None) -> Explanation:
        """Why traffic from src to dst ("namespace/name" of a workload or pod, a pod of a workload such as
        "shop/web-0", or an IP) is allowed or denied on `port` ("5432/TCP", "ICMP"; default: every service)."""
        from netverify.notebook.explanation import Explanation, requested_atoms
        from netverify.verify.explain import explain_pair

        engine = self.matrix().engine
        if isinstance(src, str) and (src == "internet" or src.startswith("alb:")):
            return self._explain_external(engine, src, dst, port)
        ends = [self._endpoint(engine, ident) for ident in (src, dst)]
        if ends[0].is_external and ends[1].is_external:
            raise InputProblemError("at least one of src/dst must be a pod or workload")
        atoms, requested = requested_atoms(engine.compiled.services, port)
        kind = [("atom", e.atoms[0]) if e.is_external else ("class", e.class_index) for e in ends]
        groups = explain_pair(engine.compiled, kind[0], kind[1], atoms)
        return Explanation(ends[0], ends[1], groups, engine.compiled.services, requested)

    def _explain_external(self, engine, src: str, dst, port: str | None):
        """From `internet` (every internet-facing ALB that routes to dst, and directly) or one `alb:<group>`."""
        from netverify.notebook.explanation import Explanation, requested_atoms
        from netverify.verify.explain import explain_pair
        from netverify.verify.explain_alb import INTERNET, internet_source, load_balancer_paths

        target = self._endpoint(engine, dst)
        if target.is_external:
            raise InputProblemError(f"{src} needs a pod or workload as the destination")
        if src != INTERNET and src not in {lb.endpoint_id for lb in engine.compiled.load_balancers.balancers}:
            raise InputProblemError(f"no load balancer {src!r}: expected alb:<IngressGroup or namespace/name>")
        atoms, requested = requested_atoms(engine.compiled.services, port)
        paths = load_balancer_paths(engine, src, target)
        if requested is not None:
            protocol, first, last = requested
            paths = [p for p in paths if p.hops and p.hops[0].protocol == protocol and p.hops[0].port is not None
                     and first <= p.hops[0].port <= last]
        origin = internet_source(engine, target) if src == INTERNET else None
        groups = explain_pair(engine.compiled, ("atom", origin.atoms[0]), ("class", target.class_index), atoms) if (
            origin is not None) else []
        shown = origin or Endpoint(src, "LoadBalancer")
        return Explanation(shown, target, groups, engine.compiled.services, requested, paths)

    @staticmethod
    def _endpoint(engine, ident):
        """An Endpoint of the matrix, an id as the matrix and frame() print it (an address range
        "first-last" included), a pod of a workload, or an IP."""
        if isinstance(ident, Endpoint):
            return ident
        for per_pod in (False, True):
            try:
                return engine.find(ident, per_pod)
            except KeyError as error:
                problem = error.args[0]
        first, dash, _ = str(ident).partition("-")
        if dash and "/" not in first:
            try:
                return engine.find(first)
            except KeyError:
                pass
        raise InputProblemError(problem)

    def contract(self, contract: str | dict | None = None) -> Contract:
        """A contract from a path, YAML text or dict (None: every namespace its own tenant)."""
        from netverify.verify.contract_loader import load_contract

        loaded, problems = load_contract(contract)
        if loaded is None:
            raise InputProblemError("the contract cannot be used", problems)
        return loaded

    def check(self, contract: str | dict | None = None) -> CheckReport:
        """`netverify check`: every cross-tenant flow the contract does not declare, with the rules that
        allowed it, plus findings."""
        from netverify.notebook.check_report import CheckReport
        from netverify.verify.isolation import check_isolation, contract_services

        loaded = self.contract(contract)
        reachability = self._analyze(tuple(contract_services(loaded)))
        return CheckReport(check_isolation(reachability.engine, loaded), reachability)

    def graph(self, contract: str | dict | None = None, per_pod: bool = False) -> networkx.DiGraph:
        """Endpoints as nodes (kind, namespace, tenant by `contract`), allowed flows as edges (conn)."""
        from netverify.verify.graph import connectivity_graph

        return connectivity_graph(self.matrix().engine, self.contract(contract), per_pod)

    # ---- what-if -----------------------------------------------------------------------------

    def with_changes(self, add: Iterable[Any] = (), remove: Iterable[Any] = ()) -> LoadedCluster:
        """A new cluster with objects added (paths, YAML strings, dicts) and removed ("Kind/namespace/name",
        "namespace/name", "Kind/name" or a manifest dict); files and this cluster are left untouched."""
        if isinstance(add, (str, dict)):
            add = [add]
        if isinstance(remove, (str, dict)):
            remove = [remove]
        documents, diagnostics, described = apply_changes(self._documents, add, remove)
        return LoadedCluster(
            documents,
            self._read_diagnostics + diagnostics,
            self.cni,
            self.pod_cidrs,
            self.changes + tuple(described),
            base=self,
        )

    # ---- displays ----------------------------------------------------------------------------

    def summary(self) -> str:
        model = self.model
        counted = {s: sum(1 for d in model.diagnostics if d.severity is s) for s in Severity}
        return (
            f"{len(model.namespaces)} namespaces, {len(model.endpoint_groups)} workloads/pods, "
            f"{len(model.policies)} policies (cni {self.cni}); {counted[Severity.ERROR]} errors, "
            f"{counted[Severity.WARNING]} warnings"
        )

    def __repr__(self) -> str:
        lines = [f"<LoadedCluster: {self.summary()}>"]
        lines += [f"  change: {change}" for change in self.changes]
        lines += [f"  {d}" for d in self.diagnostics if d.severity is not Severity.INFO][: html.MAX_ROWS]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        model = self.model
        body = ""
        if self.changes:
            body += html.section("Changes", "<br>".join(html.text(c) for c in self.changes))
        shown = [d for d in model.diagnostics if d.severity is not Severity.INFO]
        if shown:
            rows = (
                (
                    html.verdict(False, d.severity.value)
                    if d.severity is Severity.ERROR
                    else html.text(d.severity.value),
                    f"<code>{html.text(d.source or '')}</code>",
                    html.text(d.message),
                )
                for d in shown
            )
            body += html.section("Diagnostics", html.table(["severity", "where", "message"], rows))
        per_namespace: dict[str, int] = {}
        for group in model.groups:
            per_namespace[group.namespace or ""] = per_namespace.get(group.namespace or "", 0) + 1
        policies: dict[str, int] = {}
        for policy in model.policies:
            policies[policy.namespace or "(cluster)"] = policies.get(policy.namespace or "(cluster)", 0) + 1
        rows = (
            (html.text(name), str(per_namespace.get(name, 0)), str(policies.get(name, 0)))
            for name in sorted(set(model.namespaces) | set(policies))
        )
        body += html.section("Namespaces", html.table(["namespace", "workloads/pods", "policies"], rows))
        return html.card("LoadedCluster", html.text(self.summary()), body)
