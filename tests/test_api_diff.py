"""nv.diff: what a what-if change does to connectivity, on the diff core of `netverify diff`."""

from __future__ import annotations

import pytest
from api_scenario import FIXED_INGRESS, LEAKY_INGRESS, POLICIES, REPORTING_EGRESS

import netverify as nv


@pytest.fixture(scope="module")
def clusters():
    clean = nv.load(POLICIES, cni="calico")
    leaky = clean.with_changes(add=[REPORTING_EGRESS, LEAKY_INGRESS])
    fixed = leaky.with_changes(add=[FIXED_INGRESS])
    return clean, leaky, fixed


def test_leak_shows_as_an_added_pair(clusters):
    clean, leaky, _ = clusters
    report = nv.diff(clean, leaky)
    assert bool(report) and len(report) == 1
    [flow] = report.added
    assert (flow.src.id, flow.dst.id, str(flow.gained)) == ("analytics/api", "shop/db", "TCP 5432")
    assert flow.lost.is_empty
    assert not report.removed and not report.changed


def test_fix_shows_as_a_removed_pair(clusters):
    _, leaky, fixed = clusters
    report = nv.diff(leaky, fixed)
    assert [(f.kind, f.src.id, f.dst.id, str(f.lost)) for f in report.flows] == [
        ("removed", "analytics/api", "shop/db", "TCP 5432")
    ]


def test_fixed_cluster_equals_the_clean_one(clusters):
    clean, _, fixed = clusters
    report = nv.diff(clean, fixed)
    assert not report and len(report) == 0
    assert repr(report) == "<DiffReport: no change in connectivity>"


def test_diff_takes_matrices_and_engines_too(clusters):
    clean, leaky, _ = clusters
    assert len(nv.diff(clean.matrix(), leaky.matrix())) == 1
    assert len(nv.diff(clean.matrix().engine, leaky)) == 1
    with pytest.raises(TypeError, match="cannot diff a str"):
        nv.diff("policies", leaky)


def test_diff_frame_json_and_displays(clusters):
    clean, leaky, _ = clusters
    report = nv.diff(clean, leaky)
    frame = report.frame()
    assert frame.values.tolist() == [["analytics/api", "shop/db", "added", "none", "TCP 5432", "TCP 5432", "none"]]
    assert report.to_json()["added"] == [{"src": "analytics/api", "dst": "shop/db", "conn": {"TCP": [[5432, 5432]]}}]
    text = repr(report)
    assert text.splitlines() == [
        "<DiffReport: 1 pairs added, 0 removed, 0 changed; 0 endpoints added, 0 removed>",
        "  added    analytics/api => shop/db : + TCP 5432",
    ]
    page = report._repr_html_()
    assert "added" in page and "analytics/api" in page and "<script" not in page


def test_per_pod_diff_lists_pods(clusters):
    clean, leaky, _ = clusters
    report = nv.diff(clean, leaky, per_pod=True)
    assert sorted((f.src.id, f.dst.id) for f in report.flows) == [
        (f"analytics/api-{i}", f"shop/db-{j}") for i in range(2) for j in range(2)
    ]
