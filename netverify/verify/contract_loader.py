"""Read a contract file with the same positioned YAML reader as manifests, so errors carry file:line."""

from __future__ import annotations

import os

from netverify.load.sources import read_sources, read_text
from netverify.load.validation import InputErrors, parse_model
from netverify.model.diagnostics import Diagnostic, InputError, Severity
from netverify.model.source import SourceRef
from netverify.verify.contract import Contract, ContractSpec


def load_contract(path: str | dict | None) -> tuple[Contract | None, list[Diagnostic]]:
    """A contract from a file path, YAML text (named `<contract>` in positions) or a dict (the notebook API)."""
    if path is None:
        return Contract.default_contract(), []
    if isinstance(path, str) and not os.path.exists(path) and ("\n" in path or ":" in path):
        documents, diagnostics = read_text(path, "<contract>")
        path = "<contract>"
    else:
        documents, diagnostics = read_sources([path])
        if isinstance(path, dict):
            path = "<contract>"
    if diagnostics:
        return None, diagnostics
    if len(documents) != 1:
        return None, [
            Diagnostic(
                Severity.ERROR,
                f"expected one YAML document in the contract, found {len(documents)}",
                documents[1].source() if len(documents) > 1 else SourceRef(path, 0),
                "contract",
            )
        ]
    try:
        spec = parse_model(ContractSpec, documents[0].data, documents[0])
    except InputErrors as errors:
        return None, list(errors.diagnostics)
    except InputError as error:
        return None, [Diagnostic(Severity.ERROR, error.message, error.source, "contract")]
    allow_sources = [documents[0].source("allow", i) for i in range(len(spec.allow or []))]
    return Contract(spec, source=path, allow_sources=allow_sources), []
