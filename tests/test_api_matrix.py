"""The matrix in a notebook: the engine's answers, frame() and heatmap() counted against them."""

from __future__ import annotations

import numpy as np
import pytest
from api_scenario import LEAKY_INGRESS, POLICIES, REPORTING_EGRESS

import netverify as nv
from netverify.notebook.heatmap import ALL, EXTERNAL_GROUP, NONE, SOME
from netverify.notebook.reachability import protocol_rows

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def cluster():
    return nv.load(POLICIES, cni="calico").with_changes(add=[REPORTING_EGRESS, LEAKY_INGRESS])


@pytest.fixture(scope="module")
def matrix(cluster):
    return cluster.matrix()


def test_matrix_is_the_clis_matrix(matrix):
    """Same model, same engine: the connections equal netverify.analyze's on the same input."""
    direct = nv.analyze(POLICIES, REPORTING_EGRESS, LEAKY_INGRESS, cni="calico")
    assert [(s.id, d.id, str(c)) for s, d, c in matrix.connections()] == [
        (s.id, d.id, str(c)) for s, d, c in direct.connections()
    ]
    assert matrix.allowed("analytics/api", "shop/db", "TCP", 5432)
    assert matrix.conn("analytics/api", "shop/db").to_json() == {"TCP": [[5432, 5432]]}
    assert matrix.find("shop/web").kind == "Deployment"
    assert len(matrix) == sum(1 for _ in matrix.connections())


def test_frame_has_one_row_per_flow_and_protocol(matrix):
    frame = matrix.frame()
    assert list(frame.columns)[:6] == ["src", "dst", "src_kind", "dst_kind", "src_namespace", "dst_namespace"]
    pairs = [(s.id, d.id) for s, d, _ in matrix.connections()]
    assert sorted(set(zip(frame.src, frame.dst, strict=True))) == sorted(pairs)
    leak = frame[(frame.src == "analytics/api") & (frame.dst == "shop/db")]
    assert leak[["protocol", "ports", "cross_namespace"]].values.tolist() == [["TCP", "5432", True]]
    dns = frame[(frame.src == "shop/web") & (frame.dst == "kube-system/coredns")]
    assert sorted(dns.protocol) == ["TCP", "UDP"] and set(dns.ports) == {"53"}
    everything = frame[frame.conn == "all"]
    assert set(everything.protocol) == {"all"} and set(everything.ports) == {"all"}
    external = frame[frame.src_kind == "external"]
    assert len(external) and external.src_namespace.isna().all() and not external.cross_namespace.any()


def test_frame_per_pod_lists_pods(matrix):
    frame = matrix.frame(per_pod=True)
    assert "shop/web-0" in set(frame.src)


def test_protocol_rows_name_every_protocol_and_fold_the_numbered_ones():
    space_matrix = nv.load(
        [
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a", "namespace": "x"}},
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "b", "namespace": "x"}},
            {
                "apiVersion": "projectcalico.org/v3",
                "kind": "NetworkPolicy",
                "metadata": {"name": "p", "namespace": "x"},
                "spec": {
                    "selector": "all()",
                    "types": ["Ingress"],
                    "ingress": [
                        {"action": "Deny", "protocol": "TCP", "destination": {"ports": [22]}},
                        {"action": "Deny", "protocol": "ICMP", "icmp": {"type": 8}},
                        {"action": "Allow"},
                    ],
                },
            },
        ]
    ).matrix()
    conn = space_matrix.conn("x/a", "x/b")
    rows = dict(protocol_rows(conn))
    assert rows["TCP"] == "1-21,23-65535"
    assert rows["ICMP"] == "type 0-7,9-255"
    assert rows["UDP"] == "all"
    assert rows["other"].startswith("protocols 0,2-5")


def _brute_force_levels(matrix, port=None):
    """NONE/SOME/ALL per pair from conn() and allowed(), the obviously-correct way."""
    endpoints = matrix.endpoints()
    levels = {}
    for src in endpoints:
        for dst in endpoints:
            if src.id == dst.id or (src.is_external and dst.is_external):
                continue
            conn = matrix.conn(src, dst)
            if port is None:
                levels[src.id, dst.id] = ALL if conn.is_all else SOME if conn else NONE
            else:
                levels[src.id, dst.id] = ALL if conn.contains("TCP", port) else NONE
    return levels


def test_workload_heatmap_equals_conn_for_every_pair(matrix):
    grid = matrix.heatmap(level="workload").grid
    expected = _brute_force_levels(matrix)
    for (src, dst), level in expected.items():
        assert grid.values[grid.rows.index(src), grid.columns.index(dst)] == level, (src, dst)


def test_workload_heatmap_on_a_port_equals_allowed(matrix):
    grid = matrix.heatmap(level="workload", port="5432/TCP").grid
    for (src, dst), level in _brute_force_levels(matrix, 5432).items():
        assert grid.values[grid.rows.index(src), grid.columns.index(dst)] == level, (src, dst)


def test_heatmap_on_a_port_no_rule_names_still_answers_exactly(matrix):
    """7777 is inside a wider service atom; the heatmap must not need a recomputation to answer."""
    grid = matrix.heatmap(level="workload", port="7777/TCP").grid
    for (src, dst), level in _brute_force_levels(matrix, 7777).items():
        assert grid.values[grid.rows.index(src), grid.columns.index(dst)] == level, (src, dst)


def test_namespace_heatmap_counts_workload_pairs(matrix):
    grid = matrix.heatmap().grid
    assert grid.rows[-1] == EXTERNAL_GROUP
    counts: dict[tuple[str, str], int] = {}
    for src, dst, _ in matrix.connections():
        key = (src.namespace or EXTERNAL_GROUP, dst.namespace or EXTERNAL_GROUP)
        counts[key] = counts.get(key, 0) + 1
    for i, row in enumerate(grid.rows):
        for j, column in enumerate(grid.columns):
            assert grid.values[i, j] == counts.get((row, column), 0), (row, column)
    shop, analytics = grid.rows.index("shop"), grid.rows.index("analytics")
    assert grid.values[analytics, shop] == 1 and grid.pairs[analytics, shop] == 9
    assert grid.pairs[shop, shop] == 6  # 3 workloads, a workload to itself left out


def test_namespace_filter_drills_down(matrix):
    grid = matrix.heatmap(level="workload", namespace=["shop", "analytics"], external=False).grid
    assert grid.rows == ["analytics/api", "analytics/db", "analytics/web", "shop/api", "shop/db", "shop/web"]
    assert grid.values[grid.rows.index("analytics/api"), grid.columns.index("shop/db")] == SOME
    with pytest.raises(KeyError, match="nope"):
        matrix.heatmap(namespace="nope")
    with pytest.raises(ValueError, match="level"):
        matrix.heatmap(level="pod")
    with pytest.raises(ValueError, match="invalid port"):
        matrix.heatmap(port="5432/XYZ")


def test_heatmap_renders_png_and_frame(matrix, tmp_path):
    heatmap = matrix.heatmap()
    png = heatmap._repr_png_()
    assert png.startswith(PNG_SIGNATURE)
    heatmap.save(str(tmp_path / "h.png"))
    assert (tmp_path / "h.png").read_bytes().startswith(PNG_SIGNATURE)
    assert 'src="data:image/png;base64,' in heatmap._repr_html_()
    frame = heatmap.frame()
    assert frame.loc["analytics", "shop"] == 1
    assert "Allowed traffic between namespaces" in repr(heatmap)
    assert "on 5432/TCP" in repr(matrix.heatmap(level="workload", port="5432/TCP"))


def test_heatmap_is_legible_at_fifty_namespaces(tmp_path):
    """One namespace per tenant, 50 tenants: a figure big enough that labels do not overlap."""
    objects = []
    for t in range(50):
        ns = f"tenant-{t:02d}"
        objects.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        objects.append({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": ns}})
    heatmap = nv.load(objects).matrix().heatmap(external=False)
    figure = heatmap.figure()
    width, height = figure.get_size_inches()
    import matplotlib.pyplot as plt

    plt.close(figure)
    points_per_row = height * 72 / 50
    assert points_per_row >= 8  # the 8-point labels fit one per row
    assert np.all(heatmap.grid.values[~np.eye(50, dtype=bool)] == 1)  # no policy: everything reaches everything


def test_matrix_displays(matrix):
    text = repr(matrix)
    endpoints = matrix.endpoints()
    workloads = sum(1 for e in endpoints if not e.is_external)
    assert text.startswith(f"<Reachability: {workloads} workloads/pods, {len(endpoints) - workloads} external ranges,")
    assert "analytics/api => shop/db : TCP 5432" in text
    page = matrix._repr_html_()
    assert "data:image/png;base64," in page and "analytics/api" in page and "<script" not in page


def test_heatmap_of_an_empty_input_draws_without_error():
    heatmap = nv.load([]).matrix().heatmap(external=False)
    assert heatmap.grid.rows == [] and heatmap.grid.values.shape == (0, 0)
    assert heatmap.png().startswith(PNG_SIGNATURE)
    assert nv.load([]).matrix().heatmap().png().startswith(PNG_SIGNATURE)
