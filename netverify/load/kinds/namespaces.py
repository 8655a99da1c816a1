"""Namespaces (with the control plane's `kubernetes.io/metadata.name` label added as it would be) and
ServiceAccounts (whose labels Calico's serviceAccounts selectors match)."""

from __future__ import annotations

from netverify.load.builder import ClusterBuilder
from netverify.load.documents import Document
from netverify.load.kinds.common import Lenient, ObjectMeta
from netverify.load.validation import parse_model
from netverify.model.workloads import NAMESPACE_NAME_LABEL, Namespace


class NamespaceObject(Lenient):
    metadata: ObjectMeta


def load_namespace(doc: Document, builder: ClusterBuilder) -> None:
    obj = parse_model(NamespaceObject, doc.data, doc)
    labels = dict(obj.metadata.labels or {})
    labels[NAMESPACE_NAME_LABEL] = obj.metadata.name
    builder.add_namespace(Namespace(obj.metadata.name, labels, doc.source()))


class ServiceAccountObject(Lenient):
    metadata: ObjectMeta


def load_service_account(doc: Document, builder: ClusterBuilder) -> None:
    obj = parse_model(ServiceAccountObject, doc.data, doc)
    key = (obj.metadata.namespace or "default", obj.metadata.name)
    builder.cluster.service_accounts[key] = dict(obj.metadata.labels or {})
