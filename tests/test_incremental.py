"""Incremental re-checks: after random policy additions, changes and removals, `reanalyze_cluster` and
`recheck_isolation` give exactly what a full `analyze_cluster` and `check_isolation` give.

The clusters come from the two property-test generators (Kubernetes-only, and ordered Calico/ANP/Kubernetes
mixes with tiers, Pass/Deny/Log, nets, named ports); each example starts from a random subset of the
generated policies and applies a random script of edits, chaining every re-check on the previous one, so
state carried between re-checks (boundary counts, spliced tables, symbols) is exercised too.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from test_engine_vs_reference import clusters as kubernetes_clusters
from test_engine_vs_reference_ordered import ordered_clusters

from netverify.compile.compiled import CompiledCluster
from netverify.load.cluster_loader import load_cluster
from netverify.model.policy import Direction
from netverify.pipeline import PolicyChange, analyze_cluster, reanalyze_cluster
from netverify.verify.contract_loader import load_contract
from netverify.verify.isolation import check_isolation, contract_services
from netverify.verify.recheck import recheck_isolation

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


@pytest.fixture(autouse=True, scope="module")
def rows_and_columns_even_when_most_classes_are_touched():
    """Small clusters touch most of their classes with one policy, where the re-check would just compute
    everything again; here it must still take the row-and-column path, which is what is under test."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("netverify.engine.recheck.FULL_SHARE", 1.0)
        yield


@st.composite
def edit_scripts(draw, cluster_strategy):
    manifests = draw(cluster_strategy)
    options = {
        "cni": draw(st.sampled_from(["calico", "generic", "cilium"])),
        "pod_cidrs": draw(st.sampled_from([None, ()])),
    }
    steps = draw(
        st.lists(st.tuples(st.sampled_from(["add", "remove", "change"]), st.integers(0, 99), st.integers(0, 99)),
                 min_size=1, max_size=4)
    )
    return manifests, draw(st.lists(st.booleans(), min_size=12, max_size=12)), options, steps


def effective_tables(compiled: CompiledCluster, direction: Direction) -> dict:
    """A direction's tables with the numbering choices an edit may make differently (target rows, symbol
    ids) replaced by what they stand for."""
    tables = compiled.tables(direction)
    names = {i: key for key, i in compiled.symbols.items()}
    targets = [None if row < 0 else tables.target_bits[row].tobytes() for row in tables.rule_target.tolist()]
    symbols = [("in", names[s]) if s >= 0 else ("out", names[-1 - s]) for s in tables.rule_symbol.tolist()]
    plain = {
        name: getattr(tables, name).tolist()
        for name in ("target_policy_ptr", "target_policy", "target_default", "policy_tier", "policy_rule_ptr",
                     "tier_default", "rule_action", "rule_peer_ptr", "rule_peer", "rule_service", "rule_symbol_ptr",
                     "rule_symbol_filter")
    }
    return {**plain, "policies": tables.policies, "tiers": tables.tiers, "rules": tables.rules,
            "targets": targets, "symbols": symbols, "policy_targets": [t.tolist() for t in tables.policy_targets]}


def assert_same_analysis(incremental, full) -> None:
    a, b = incremental.compiled, full.compiled
    assert a.atoms.atoms == b.atoms.atoms and a.atoms.ipv6_mentioned == b.atoms.ipv6_mentioned
    assert a.services.atom_rows == b.services.atom_rows
    assert [(c.namespace, c.labels, c.ports, c.ip_atoms, c.ids) for c in a.classes] == [
        (c.namespace, c.labels, c.ports, c.ip_atoms, c.ids) for c in b.classes
    ]
    assert np.array_equal(incremental.pod_rows, full.pod_rows)
    assert np.array_equal(incremental.ingress, full.ingress)
    for direction in Direction:
        assert effective_tables(a, direction) == effective_tables(b, direction)
    assert [e.id for e in incremental.endpoints()] == [e.id for e in full.endpoints()]


def without_seconds(result) -> dict:
    data = result.to_json()
    data["stats"].pop("seconds")
    return data


def run_script(manifests, keep, options, steps) -> None:
    whole = load_cluster([manifests])
    assert not whole.errors, whole.errors
    pool = whole.policies
    present = [i < len(keep) and keep[i] for i in range(len(pool))]

    def cluster_now():
        return dataclasses.replace(whole, policies=[p for p, here in zip(pool, present, strict=True) if here])

    contract, _ = load_contract(None)
    extra = contract_services(contract)
    matrix = analyze_cluster(cluster_now(), options["cni"], extra_services=extra, pod_cidrs=options["pod_cidrs"])
    check = check_isolation(matrix, contract)
    for action, first, second in steps:
        inside = [i for i, here in enumerate(present) if here]
        outside = [i for i, here in enumerate(present) if not here]
        removed = [inside[first % len(inside)]] if action in ("remove", "change") and inside else []
        added = [outside[second % len(outside)]] if action in ("add", "change") and outside else []
        if not removed and not added:
            continue
        for i in removed:
            present[i] = False
        for i in added:
            present[i] = True
        cluster = cluster_now()
        change = PolicyChange(added=tuple(pool[i] for i in added), removed=tuple(pool[i] for i in removed))
        atoms_before = len(matrix.compiled.atoms)
        matrix = reanalyze_cluster(matrix, cluster, change)
        event("fast path" if not matrix.touched.everything else "full recomputation")
        if not matrix.touched.everything and len(matrix.compiled.atoms) != atoms_before:
            event("fast path with IP atoms cut")
        full = analyze_cluster(cluster, options["cni"], extra_services=extra, pod_cidrs=options["pod_cidrs"])
        assert_same_analysis(matrix, full)
        check = recheck_isolation(check, matrix, contract)
        assert without_seconds(check) == without_seconds(check_isolation(full, contract))


@SETTINGS
@given(edit_scripts(kubernetes_clusters()))
def test_reanalysis_equals_full_analysis_after_random_edits_of_kubernetes_policies(script):
    run_script(*script)


@SETTINGS
@given(edit_scripts(ordered_clusters()))
def test_reanalysis_equals_full_analysis_after_random_edits_of_ordered_policies(script):
    run_script(*script)


def test_fast_path_recomputes_only_the_classes_a_policy_applies_to():
    """Removing and re-adding a policy that mentions no boundary of its own touches only its targets."""
    whole = load_cluster([str(ROOT / "policies")])
    policy = next(p for p in whole.policies if p.name == "shop/db-from-api-only")
    others = [p for p in whole.policies if p is not policy]
    matrix = analyze_cluster(whole, "calico")
    targets = np.flatnonzero(matrix.compiled.peers.mask(policy.applies_to)[: matrix.n_classes])
    smaller = reanalyze_cluster(matrix, dataclasses.replace(whole, policies=others), PolicyChange(removed=(policy,)))
    assert not smaller.touched.everything
    assert smaller.touched.destinations.tolist() == (targets.tolist() if policy.ingress is not None else [])
    assert smaller.touched.sources.tolist() == (targets.tolist() if policy.egress is not None else [])
    assert 0 < len(targets) < matrix.n_classes
    again = reanalyze_cluster(smaller, whole, PolicyChange(added=(policy,)))
    assert not again.touched.everything
    assert_same_analysis(again, analyze_cluster(whole, "calico"))


def test_new_cidr_boundary_recomputes_everything_with_the_same_result():
    whole = load_cluster([str(ROOT / "policies")])
    cidr = next(p for p in whole.policies if any("ipBlock" in str(r.peer) or "NetPeer" in str(r.peer)
                                                for r in (p.ingress or ())))
    others = [p for p in whole.policies if p is not cidr]
    matrix = analyze_cluster(dataclasses.replace(whole, policies=others), "calico")
    added = reanalyze_cluster(matrix, whole, PolicyChange(added=(cidr,)))
    assert_same_analysis(added, analyze_cluster(whole, "calico"))


def test_removing_a_policy_that_is_not_there_is_an_error():
    whole = load_cluster([str(ROOT / "policies")])
    policy = whole.policies[0]
    rest = dataclasses.replace(whole, policies=whole.policies[1:])
    matrix = analyze_cluster(rest, "calico")
    with pytest.raises(ValueError, match="not a policy of the previous cluster"):
        reanalyze_cluster(matrix, dataclasses.replace(rest, policies=rest.policies[1:]),
                          PolicyChange(removed=(policy,)))


def test_keep_previous_leaves_the_previous_matrix_as_it_was():
    whole = load_cluster([str(ROOT / "policies")])
    policy = next(p for p in whole.policies if p.name == "shop/db-from-api-only")
    matrix = analyze_cluster(whole, "calico")
    before = (matrix.pod_rows.copy(), matrix.ingress.copy())
    others = dataclasses.replace(whole, policies=[p for p in whole.policies if p is not policy])
    after = reanalyze_cluster(matrix, others, PolicyChange(removed=(policy,)), keep_previous=True)
    assert np.array_equal(matrix.pod_rows, before[0]) and np.array_equal(matrix.ingress, before[1])
    assert not np.array_equal(after.ingress, before[1])
    assert_same_analysis(after, analyze_cluster(others, "calico"))


def test_new_cidr_boundary_cuts_atoms_and_keeps_the_fast_path():
    """A policy naming a CIDR no other policy names cuts IP atoms; rules that covered the cut atom cover
    both halves, and the matrix inherits their columns, so only the policy's own targets are re-evaluated."""
    from manifests import deployment, namespace, netpol, pod

    manifests = [
        namespace("a"),
        namespace("b"),
        deployment("a", "x", {"app": "x"}),
        deployment("b", "y", {"app": "y"}),
        pod("b", "z", {"app": "z"}, ip="192.168.7.9"),
        netpol("a", "x-out", {"matchLabels": {"app": "x"}}, policyTypes=["Egress"],
               egress=[{"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}]}]),
        netpol("b", "y-in", {"matchLabels": {"app": "y"}}, policyTypes=["Ingress"],
               ingress=[{"from": [{"ipBlock": {"cidr": "203.0.113.0/24"}}, {"ipBlock": {"cidr": "192.168.7.0/24"}}]}]),
    ]
    whole = load_cluster([manifests])
    new = next(p for p in whole.policies if p.name == "b/y-in")
    before = dataclasses.replace(whole, policies=[p for p in whole.policies if p is not new])
    for cidrs in (None, ()):
        matrix = analyze_cluster(before, "calico", pod_cidrs=cidrs)
        atoms = len(matrix.compiled.atoms)
        after = reanalyze_cluster(matrix, whole, PolicyChange(added=(new,)))
        assert not after.touched.everything and len(after.compiled.atoms) > atoms
        assert_same_analysis(after, analyze_cluster(whole, "calico", pod_cidrs=cidrs))


def test_recheck_equals_full_check_with_load_balancers_exposure_and_suppressions(tmp_path):
    """The re-check runs the rest of the check (ALB violations, exposure, annotations, findings) like the
    full one: remove and re-add every policy of an ALB cluster, comparing with a full check each time."""
    root = Path(__file__).resolve().parent.parent / "fixtures" / "alb"
    annotated = (
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: partner\n  namespace: team-b\n"
        "  annotations: {netverify.io/allow-cross-tenant: 'partner feed'}\nspec:\n  podSelector: {}\n"
        "  policyTypes: [Ingress]\n  ingress: [{from: [{namespaceSelector: {}}], ports: [{port: 8080}]}]\n"
    )
    sources = [str(root / d) for d in ("base", "cross-tenant-group", "cidr-admits-other-tenants", "backend-blocked")]
    whole = load_cluster([*sources, annotated])
    assert not whole.errors, whole.errors
    contract_file = tmp_path / "contract.yaml"
    contract_file.write_text("exposure: {internet: none}\n", encoding="utf-8")
    contract, _ = load_contract(str(contract_file))
    matrix = analyze_cluster(whole, "generic")
    check = check_isolation(matrix, contract)
    assert {v.rule for v in check.violations} >= {"ingress-group-cross-tenant", "cidr-admits-other-tenants"}
    assert check.suppressed
    for policy in list(whole.policies):
        rest = dataclasses.replace(whole, policies=[p for p in whole.policies if p is not policy])
        for cluster, change in ((rest, PolicyChange(removed=(policy,))), (whole, PolicyChange(added=(policy,)))):
            matrix = reanalyze_cluster(matrix, cluster, change)
            check = recheck_isolation(check, matrix, contract)
            full = check_isolation(analyze_cluster(cluster, "generic"), contract)
            assert without_seconds(check) == without_seconds(full), policy.name


def test_recheck_without_policy_findings_keeps_the_verdict_and_every_violation():
    root = Path(__file__).resolve().parent.parent / "fixtures" / "alb"
    whole = load_cluster([str(root / "base"), str(root / "cidr-admits-other-tenants")])
    contract, _ = load_contract(None)
    matrix = analyze_cluster(whole, "generic")
    check = check_isolation(matrix, contract)
    policy = whole.policies[-1]
    rest = dataclasses.replace(whole, policies=whole.policies[:-1])
    matrix = reanalyze_cluster(matrix, rest, PolicyChange(removed=(policy,)))
    quick = recheck_isolation(check, matrix, contract, policy_findings=False)
    full = check_isolation(analyze_cluster(rest, "generic"), contract)
    assert quick.stats["policy_findings"] == "not computed"
    assert [v.to_json() for v in quick.violations] == [v.to_json() for v in full.violations]
    assert quick.ok == full.ok
    rules = {"policy-selects-nothing", "rule-never-matches", "policy-shadowed", "unreachable-deny"}
    assert [f.to_json() for f in quick.findings] == [f.to_json() for f in full.findings if f.rule not in rules]
