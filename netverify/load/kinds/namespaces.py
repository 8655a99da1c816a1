"""Namespaces (with the control plane's `kubernetes.io/metadata.name` label added as it would be),
ServiceAccounts (whose labels Calico's serviceAccounts selectors match) and Nodes (labels and addresses)."""

from __future__ import annotations

from pydantic import StrictStr

from netverify.load.builder import ClusterBuilder
from netverify.load.documents import Document
from netverify.load.kinds.common import Lenient, ObjectMeta
from netverify.load.validation import parse_model
from netverify.model.addresses import parse_address
from netverify.model.workloads import NAMESPACE_NAME_LABEL, Namespace, Node


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


class NodeAddress(Lenient):
    type: StrictStr
    address: StrictStr


class NodeStatus(Lenient):
    addresses: list[NodeAddress] | None = None


class NodeObject(Lenient):
    metadata: ObjectMeta
    status: NodeStatus | None = None


def load_node(doc: Document, builder: ClusterBuilder) -> None:
    obj = parse_model(NodeObject, doc.data, doc)
    addresses: list[tuple[int, int]] = []
    for i, entry in enumerate(obj.status.addresses or [] if obj.status else []):
        if entry.type not in ("InternalIP", "ExternalIP"):
            continue
        try:
            addresses.append(parse_address(entry.address))
        except ValueError as exc:
            builder.error(f"status.addresses[{i}].address: {exc}", doc.source("status", "addresses", i))
    labels = dict(obj.metadata.labels or {})
    builder.cluster.nodes.append(Node(obj.metadata.name, labels, tuple(addresses), doc.source()))
