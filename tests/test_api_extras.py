"""Without the notebook extra, the core works and a method that needs pandas or matplotlib says which
extra to install; the displays degrade instead of failing."""

from __future__ import annotations

import sys

import pytest
from api_scenario import POLICIES

import netverify as nv
from netverify.notebook import MissingExtraError


@pytest.fixture
def without_extras(monkeypatch):
    """pandas and matplotlib made unimportable (a None entry in sys.modules makes import fail)."""
    for name in list(sys.modules):
        if name.split(".")[0] in ("pandas", "matplotlib"):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "pandas", None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)


@pytest.fixture(scope="module")
def cluster():
    cluster = nv.load(POLICIES, cni="calico")
    cluster.matrix()
    return cluster


def test_frame_names_the_extra(cluster, without_extras):
    with pytest.raises(MissingExtraError, match=r"pip install 'netverify\[notebook\]'"):
        cluster.matrix().frame()
    with pytest.raises(MissingExtraError, match="pandas"):
        cluster.check().frame()


def test_heatmap_names_the_extra(cluster, without_extras):
    heatmap = cluster.matrix().heatmap()  # the numbers need no extra
    assert heatmap.grid.values.sum() > 0
    with pytest.raises(MissingExtraError, match=r"matplotlib, which is not installed: pip install"):
        heatmap.png()


def test_displays_and_questions_work_without_the_extra(cluster, without_extras):
    matrix = cluster.matrix()
    page = matrix._repr_html_()  # no heatmap picture, still the table
    assert "<table" in page and "data:image/png" not in page
    assert cluster.explain("shop/api", "shop/db", "5432/TCP").allowed
    assert cluster.check().ok
    graph = cluster.graph()
    assert all(e.id in graph for e in matrix.endpoints())


def test_extra_is_declared_with_what_the_tests_need():
    from pathlib import Path

    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    project = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    names = {requirement.split(">")[0].split("[")[0].strip() for requirement in extras["notebook"]}
    assert {"pandas", "matplotlib"} <= names
    test_names = {requirement.split(">")[0].split("[")[0].strip() for requirement in extras["test"]}
    assert {"pandas", "matplotlib", "nbclient", "nbformat", "ipykernel"} <= test_names
    assert not {"pandas", "matplotlib"} & {r.split(">")[0] for r in project["dependencies"]}
