"""ENIConfig (crd.k8s.amazonaws.com/v1alpha1): with the Amazon VPC CNI's custom networking, pods take their
addresses from the ENIConfig's subnet instead of their node's, so that subnet may hold pods.

The node's own subnet keeps its pods role too: whether custom networking is on is a setting of the
aws-node DaemonSet (AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG), and host-network pods use the node's address anyway.
"""

from __future__ import annotations

from pydantic import Field, StrictStr

from netverify.load.builder import ClusterBuilder
from netverify.load.documents import Document
from netverify.load.formats.subnet_table import Occupancy, subnet_table
from netverify.load.kinds.common import Lenient, ObjectMeta
from netverify.load.validation import parse_model
from netverify.model.network import ROLE_PODS


class EniConfigSpec(Lenient):
    subnet: StrictStr = Field(min_length=1)
    securityGroups: list[StrictStr] = []


class EniConfigObject(Lenient):
    metadata: ObjectMeta
    spec: EniConfigSpec


def load_eni_config(doc: Document, builder: ClusterBuilder) -> None:
    obj = parse_model(EniConfigObject, doc.data, doc)
    reason = f"ENIConfig {obj.metadata.name!r}"
    subnet_table(builder).occupancy.append(
        Occupancy(obj.spec.subnet, frozenset({ROLE_PODS}), reason, doc.source("spec", "subnet"))
    )
