"""The contract applied a block of flows at a time (`FlowJudge.judge_block`, what `check` runs) gives exactly
what the per-flow definition (`FlowJudge.judge`, what an incremental re-check runs) gives, on random clusters
under random contracts: tenants by label or by lists, `shared` entries with and without pods, ports and
`bothWays`, and `allow` entries naming tenants, namespaces, pods and ports."""

from __future__ import annotations

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from test_engine_vs_reference import KEYS, VALUES
from test_engine_vs_reference import clusters as kubernetes_clusters

from netverify.engine.connset import ConnSet
from netverify.load.cluster_loader import load_cluster
from netverify.pipeline import analyze_cluster
from netverify.verify.contract_loader import load_contract
from netverify.verify.flow_judge import FlowJudge, cross_tenant_blocks
from netverify.verify.isolation import contract_services

NAMESPACES = ["ns0", "ns1", "ns2", "kube-system"]
PORTS = ["53/UDP", "80/TCP", "80-443/TCP", "8080/TCP", "9000/SCTP"]

pod_labels = st.none() | st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), min_size=1, max_size=2)
port_lists = st.none() | st.lists(st.sampled_from(PORTS), min_size=1, max_size=3, unique=True)


@st.composite
def parties(draw) -> dict:
    party: dict = {}
    if draw(st.booleans()):
        party["tenant"] = draw(st.sampled_from(["*", *NAMESPACES, *VALUES]))
    if draw(st.booleans()):
        party["namespace"] = draw(st.sampled_from(NAMESPACES))
    labels = draw(pod_labels)
    if labels:
        party["pods"] = labels
    return party


@st.composite
def contracts(draw) -> dict:
    tenants = draw(
        st.sampled_from(
            [
                {},
                {"namespaceLabel": "app"},
                {"namespaceLabel": "team"},
                {"namespaces": {"t01": ["ns0", "ns1"]}},
                {"namespaces": {"t12": ["ns1", "ns2"], "t0": ["ns0"]}},
            ]
        )
    )
    contract: dict = {"tenants": tenants}
    shared = []
    for _ in range(draw(st.integers(0, 2))):
        entry: dict = {"namespace": draw(st.sampled_from(NAMESPACES)), "bothWays": draw(st.booleans())}
        labels, ports = draw(pod_labels), draw(port_lists)
        if labels:
            entry["pods"] = labels
        if ports:
            entry["ports"] = ports
        shared.append(entry)
    if shared:
        contract["shared"] = shared
    allow = []
    for n in range(draw(st.integers(0, 3))):
        entry = {"from": draw(parties()), "to": draw(parties()), "reason": f"entry {n}"}
        ports = draw(port_lists)
        if ports:
            entry["ports"] = ports
        allow.append(entry)
    if allow:
        contract["allow"] = allow
    return contract


def per_flow(matrix, contract) -> tuple[list, list]:
    judge = FlowJudge(matrix, contract)
    failing, declared = [], []
    space = matrix.compiled.services
    for block in cross_tenant_blocks(matrix, judge.tenant):
        for i, k, words in zip(block.src.tolist(), block.dst.tolist(), block.conn, strict=True):
            bad, excepted = judge.judge(block.pods[i], block.pods[k], ConnSet(words, space))
            if bad is not None:
                failing.append(bad.to_json())
            if excepted is not None:
                declared.append(excepted.to_json())
    return failing, declared


def per_block(matrix, contract) -> tuple[list, list]:
    judge = FlowJudge(matrix, contract)
    failing: list = []
    declared: list = []
    for block in cross_tenant_blocks(matrix, judge.tenant):
        judge.judge_block(block, failing, declared)
    return [v.to_json() for v in failing], [v.to_json() for v in declared]


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kubernetes_clusters(), contracts())
def test_contract_judged_per_block_equals_the_per_flow_definition(manifests, contract_data):
    cluster = load_cluster([manifests])
    assert not cluster.errors, cluster.errors
    contract, errors = load_contract(contract_data)
    assert contract is not None, errors
    matrix = analyze_cluster(cluster, "calico", extra_services=contract_services(contract))
    failing, declared = per_flow(matrix, contract)
    event(f"violations: {'some' if failing else 'none'}, declared flows: {'some' if declared else 'none'}")
    assert per_block(matrix, contract) == (failing, declared)
