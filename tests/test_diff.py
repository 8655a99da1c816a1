"""The diff core: flows added, removed and changed between two runs, on hand-built clusters."""

from __future__ import annotations

from manifests import deployment, namespace, netpol, pod

import netverify
from netverify.verify.diff import ConnectivityDiff, diff_matrices

DENY_ALL = {"policyTypes": ["Ingress", "Egress"]}


def base() -> list[dict]:
    return [
        namespace("a"),
        namespace("b"),
        pod("a", "x", {"app": "x"}, ports=[(80, "TCP")]),
        pod("b", "y", {"app": "y"}, ports=[(80, "TCP")]),
        netpol("a", "deny", {}, **DENY_ALL),
        netpol("b", "deny", {}, **DENY_ALL),
    ]


def allow_egress(ns: str, name: str, to: list, ports: list | None = None) -> dict:
    rule: dict = {"to": to}
    if ports is not None:
        rule["ports"] = ports
    return netpol(ns, name, {}, policyTypes=["Egress"], egress=[rule])


def allow_ingress(ns: str, name: str, sources: list, ports: list | None = None) -> dict:
    rule: dict = {"from": sources}
    if ports is not None:
        rule["ports"] = ports
    return netpol(ns, name, {}, policyTypes=["Ingress"], ingress=[rule])


def diff(old: list[dict], new: list[dict], per_pod: bool = False) -> ConnectivityDiff:
    return diff_matrices(netverify.analyze(old, pod_cidrs=[]), netverify.analyze(new, pod_cidrs=[]), per_pod=per_pod)


def flows(changes) -> list[tuple[str, str, str]]:
    return [(f.src.id, f.dst.id, str(f.gained if f.kind != "removed" else f.lost)) for f in changes]


def cross_tenant_flow() -> list[dict]:
    to_b = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "b"}}}
    from_a = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "a"}}}
    return [allow_egress("a", "to-b", [to_b], [{"port": 80}]), allow_ingress("b", "from-a", [from_a], [{"port": 80}])]


def test_identical_inputs_give_an_empty_diff():
    result = diff(base() + cross_tenant_flow(), base() + cross_tenant_flow())
    assert result.is_empty
    assert result.to_json()["changed"] is False
    assert result.added == result.removed == result.changed == []


def test_identical_connectivity_from_different_policies_is_an_empty_diff():
    """Only connectivity counts: rewriting one policy as two that allow the same is no change."""
    to_b = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "b"}}}
    split = [
        allow_egress("a", "to-b-80", [to_b], [{"port": 80}]),
        allow_ingress("b", "from-a", [{"namespaceSelector": {}}], [{"port": 80}]),
    ]
    assert diff(base() + cross_tenant_flow(), base() + split).is_empty


def test_flow_opened_by_a_new_policy_is_added():
    result = diff(base(), base() + cross_tenant_flow())
    assert flows(result.added) == [("a/x", "b/y", "TCP 80")]
    assert result.removed == [] and result.changed == []
    data = result.to_json()
    assert data["changed"] is True
    assert data["added"] == [{"src": "a/x", "dst": "b/y", "conn": {"TCP": [[80, 80]]}}]
    assert data["removed"] == []


def test_flow_closed_by_a_change_is_removed():
    result = diff(base() + cross_tenant_flow(), base())
    assert flows(result.removed) == [("a/x", "b/y", "TCP 80")]
    assert result.added == [] and result.changed == []
    assert result.to_json()["removed"] == [{"src": "a/x", "dst": "b/y", "conn": {"TCP": [[80, 80]]}}]


def test_narrowed_port_range_is_a_change_that_loses_the_cut_ports():
    to_b = [{"namespaceSelector": {}}]
    wide = [allow_egress("a", "out", to_b, [{"port": 80, "endPort": 90}]), allow_ingress("b", "in", to_b)]
    narrow = [allow_egress("a", "out", to_b, [{"port": 80, "endPort": 85}]), allow_ingress("b", "in", to_b)]
    result = diff(base() + wide, base() + narrow)
    [change] = result.changed
    assert (change.src.id, change.dst.id) == ("a/x", "b/y")
    assert str(change.before) == "TCP 80-90" and str(change.after) == "TCP 80-85"
    assert change.gained.is_empty and str(change.lost) == "TCP 86-90"
    data = result.to_json()
    assert data["added"] == []
    assert data["removed"] == [{"src": "a/x", "dst": "b/y", "conn": {"TCP": [[86, 90]]}, "after": {"TCP": [[80, 85]]}}]


def test_widened_ports_on_a_connected_pair_are_added_with_what_the_pair_had_before():
    to_b = [{"namespaceSelector": {}}]
    old = [allow_egress("a", "out", to_b, [{"port": 80}]), allow_ingress("b", "in", to_b)]
    new = [allow_egress("a", "out", to_b, [{"port": 80}, {"port": 443}]), allow_ingress("b", "in", to_b)]
    result = diff(base() + old, base() + new)
    [change] = result.changed
    assert str(change.gained) == "TCP 443" and change.lost.is_empty
    assert result.gained == [change] and result.lost == []
    assert result.to_json()["added"] == [
        {"src": "a/x", "dst": "b/y", "conn": {"TCP": [[443, 443]]}, "before": {"TCP": [[80, 80]]}}
    ]


def test_port_atoms_of_both_runs_are_compared_on_their_common_boundaries():
    """Old cuts TCP at 80 only, new at 8000-9000 only: `all` before and after must still compare equal where
    they agree, and the difference is exactly the ports the new rule leaves out."""
    to_b = [{"namespaceSelector": {}}]
    old = [allow_egress("a", "out", to_b), allow_ingress("b", "in", to_b, [{"port": 80}])]
    new = [allow_egress("a", "out", to_b, [{"port": 8000, "endPort": 9000}]), allow_ingress("b", "in", to_b)]
    result = diff(base() + old, base() + new)
    [change] = result.flows
    assert str(change.lost) == "TCP 80" and str(change.gained) == "TCP 8000-9000"


def test_added_external_flow_shows_on_a_range_the_old_run_never_cut():
    """The old run sees 0.0.0.0-10.0.255.255 as one range; the new one opens only 10.0.0.0/24 of it."""
    old = base() + [allow_ingress("a", "from-10-1", [{"ipBlock": {"cidr": "10.1.0.0/16"}}])]
    new = old + [allow_ingress("a", "from-10-0-0", [{"ipBlock": {"cidr": "10.0.0.0/24"}}])]
    old_ids = [e.id for e in netverify.analyze(old, pod_cidrs=[]).external_endpoints()]
    assert "0.0.0.0-10.0.255.255" in old_ids
    result = diff(old, new)
    assert flows(result.added) == [("10.0.0.0-10.0.0.255", "a/x", "all")]
    assert result.removed == [] and result.changed == []


def test_external_change_inside_an_allowed_range_is_a_change_of_that_subrange():
    old = base() + [allow_ingress("a", "from-10", [{"ipBlock": {"cidr": "10.0.0.0/16"}}], [{"port": 80}])]
    new = old + [allow_ingress("a", "from-10-0-0", [{"ipBlock": {"cidr": "10.0.0.0/24"}}], [{"port": 443}])]
    result = diff(old, new)
    [change] = result.flows
    assert change.src.id == "10.0.0.0-10.0.0.255" and change.dst.id == "a/x"
    assert change.kind == "changed" and str(change.gained) == "TCP 443" and str(change.before) == "TCP 80"


def test_adjacent_external_ranges_that_changed_alike_are_merged():
    """Two /25 halves opened by two policies are one flow from the whole /24, however the runs cut it."""
    halves = [
        allow_egress("a", "low", [{"ipBlock": {"cidr": "192.168.0.0/25"}}]),
        allow_egress("a", "high", [{"ipBlock": {"cidr": "192.168.0.128/25"}}]),
    ]
    result = diff(base(), base() + halves)
    assert flows(result.added) == [("a/x", "192.168.0.0-192.168.0.255", "all")]
    # and with both runs also cut at a /26 (by an unchanged ingress rule), still one merged range
    quarter = [allow_ingress("a", "from-quarter", [{"ipBlock": {"cidr": "192.168.0.64/26"}}])]
    result = diff(base() + quarter, base() + quarter + halves)
    assert flows(result.added) == [("a/x", "192.168.0.0-192.168.0.255", "all")]


def test_external_ranges_that_changed_differently_are_not_merged():
    changes = [
        allow_egress("a", "low", [{"ipBlock": {"cidr": "192.168.0.0/25"}}], [{"port": 80}]),
        allow_egress("a", "high", [{"ipBlock": {"cidr": "192.168.0.128/25"}}], [{"port": 443}]),
    ]
    result = diff(base(), base() + changes)
    assert flows(result.added) == [
        ("a/x", "192.168.0.0-192.168.0.127", "TCP 80"),
        ("a/x", "192.168.0.128-192.168.0.255", "TCP 443"),
    ]


def test_added_workload_brings_its_flows_as_added():
    open_ns = [namespace("c"), pod("c", "p", {"app": "p"})]
    added = deployment("c", "web", {"app": "web"})
    result = diff(open_ns, open_ns + [added])
    assert [e.id for e in result.endpoints_added] == ["c/web"] and result.endpoints_removed == ()
    pod_flows = {(f.src.id, f.dst.id) for f in result.added if not (f.src.is_external or f.dst.is_external)}
    assert pod_flows == {("c/p", "c/web"), ("c/web", "c/p")}
    assert all(f.kind == "added" for f in result.flows)
    assert {f.src.id for f in result.flows if f.dst.is_external} == {"c/web"}  # its egress to the outside too
    assert result.to_json()["endpoints"]["added"] == [
        {"id": "c/web", "kind": "Deployment", "namespace": "c", "name": "web"}
    ]


def test_removed_workload_takes_its_flows_away():
    open_ns = [namespace("c"), pod("c", "p", {"app": "p"})]
    result = diff(open_ns + [deployment("c", "web", {"app": "web"})], open_ns)
    assert [e.id for e in result.endpoints_removed] == ["c/web"]
    assert result.flows and all(f.kind == "removed" for f in result.flows)
    assert all("c/web" in (f.src.id, f.dst.id) for f in result.flows)


def test_isolated_workload_added_changes_endpoints_but_no_flow():
    """A workload whose policies let nothing in or out adds an endpoint, not a connectivity change."""
    result = diff(base(), base() + [deployment("a", "quiet", {"app": "quiet"})])
    assert [e.id for e in result.endpoints_added] == ["a/quiet"]
    assert result.is_empty


def test_per_pod_diff_lists_each_replica():
    open_ns = [namespace("c"), pod("c", "p", {"app": "p"})]
    result = diff(open_ns, open_ns + [deployment("c", "web", {"app": "web"}, replicas=2)], per_pod=True)
    into_p = sorted(f.src.id for f in result.added if f.dst.id == "c/p")
    assert len(into_p) == 2 and all(src.startswith("c/web-") for src in into_p)
    # replicas of one workload reach each other: that is an added flow between two pods of one class
    assert any(f.src.id.startswith("c/web-") and f.dst.id.startswith("c/web-") for f in result.added)


def test_order_follows_the_matrix_pod_sources_then_external_sources():
    old = base()
    new = base() + cross_tenant_flow() + [allow_ingress("b", "from-net", [{"ipBlock": {"cidr": "8.8.8.0/24"}}])]
    result = diff(old, new)
    kinds = [(f.src.is_external, f.dst.is_external) for f in result.flows]
    assert kinds == sorted(kinds)
    assert result.flows[0].src.id == "a/x"
