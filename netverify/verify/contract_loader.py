"""Read a contract file with the same positioned YAML reader as manifests, so errors carry file:line."""

from __future__ import annotations

from netverify.load.sources import read_sources
from netverify.load.validation import InputErrors, parse_model
from netverify.model.diagnostics import Diagnostic, InputError, Severity
from netverify.model.source import SourceRef
from netverify.verify.contract import Contract, ContractSpec


def load_contract(path: str | None) -> tuple[Contract | None, list[Diagnostic]]:
    if path is None:
        return Contract.default_contract(), []
    documents, diagnostics = read_sources([path])
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
    if spec.exposure is not None and spec.exposure.internet is not None:
        return None, [
            Diagnostic(
                Severity.ERROR,
                "exposure.internet needs the Ingress/ALB model, which this version does not have yet; "
                "remove it to check tenant isolation",
                documents[0].source("exposure"),
                "contract",
            )
        ]
    return Contract(spec, source=path), []
