"""examples/explore.ipynb runs top to bottom in a real Jupyter kernel of this interpreter, and shows the
heatmap and the explained leak."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
KERNEL = "netverify-test"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """Register a kernel for this very interpreter in a private Jupyter path, so the notebook runs with the
    netverify under test whatever kernels the machine has."""
    from ipykernel.kernelspec import install

    prefix = tmp_path_factory.mktemp("jupyter")
    install(kernel_name=KERNEL, prefix=str(prefix))
    patch = pytest.MonkeyPatch()
    patch.setenv("JUPYTER_PATH", str(prefix / "share" / "jupyter"))
    patch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    try:
        notebook = nbformat.read(EXAMPLES / "explore.ipynb", as_version=4)
        client = nbclient.NotebookClient(
            notebook,
            kernel_name=KERNEL,
            timeout=600,
            resources={"metadata": {"path": str(EXAMPLES)}},
        )
        client.execute()
    finally:
        patch.undo()
    return notebook


def _outputs(notebook):
    for cell in notebook.cells:
        if cell.cell_type == "code":
            yield cell.source, cell.outputs


def test_every_cell_ran_without_error(executed):
    for source, outputs in _outputs(executed):
        assert all(output.output_type != "error" for output in outputs), source
        assert outputs, f"cell printed nothing: {source}"


def test_heatmap_is_shown_as_an_image(executed):
    images = [
        output["data"]["image/png"]
        for source, outputs in _outputs(executed)
        if "heatmap(" in source
        for output in outputs
        if "data" in output
    ]
    assert len(images) == 4
    import base64

    assert all(base64.b64decode(image).startswith(b"\x89PNG\r\n\x1a\n") for image in images)


def test_leak_is_found_and_explained(executed):
    shown = {source: outputs for source, outputs in _outputs(executed)}
    check = next(o for s, o in shown.items() if s.startswith("report = proposed.check()"))
    assert (
        "VIOLATION cross-tenant-flow: analytics/api (analytics) -> shop/db (shop): TCP 5432"
        in check[0]["data"]["text/plain"]
    )
    explain = next(o for s, o in shown.items() if s.startswith('proposed.explain("analytics/api"'))
    text = explain[0]["data"]["text/plain"]
    assert text.splitlines()[0] == "analytics/api -> shop/db  TCP 5432: ALLOWED"
    assert "Allow: NetworkPolicy shop/db-from-api ingress[0] (tier default) at <add[1]>:11:7" in text
    assert "ALLOWED" in explain[0]["data"]["text/html"]


def test_fix_removes_exactly_the_leak(executed):
    shown = {source: outputs for source, outputs in _outputs(executed)}
    fixed = next(o for s, o in shown.items() if "fixed.check()" in s)
    assert "isolation holds" in fixed[0]["data"]["text/plain"]
    diff = shown["nv.diff(proposed, fixed)"][0]["data"]["text/plain"]
    assert diff.splitlines()[1] == "  removed  analytics/api => shop/db : - TCP 5432"
    assert shown["nv.diff(cluster, fixed)"][0]["data"]["text/plain"] == "<DiffReport: no change in connectivity>"
