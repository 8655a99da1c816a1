"""netverify's own annotations on input objects, checked where they are written.

`netverify.io/allow-cross-tenant: "<reason>"` on a policy suppresses the cross-tenant flows that policy
opens (verify/suppressions.py). The reason is required: an exception nobody can justify in review is not
an exception, so an empty one is an input error at the annotation's line.
"""

from __future__ import annotations

from netverify.load.builder import ClusterBuilder
from netverify.load.documents import Document

ALLOW_CROSS_TENANT = "netverify.io/allow-cross-tenant"
NETVERIFY_PREFIX = "netverify.io/"
KNOWN = (ALLOW_CROSS_TENANT,)


def check_annotations(doc: Document, builder: ClusterBuilder) -> None:
    metadata = doc.data.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    if not isinstance(annotations, dict):
        return
    for key, value in annotations.items():
        if not isinstance(key, str) or not key.startswith(NETVERIFY_PREFIX):
            continue
        where = doc.source("metadata", "annotations", key)
        if key not in KNOWN:
            builder.error(
                f"unknown annotation {key!r}; netverify understands {', '.join(KNOWN)}", where, code="annotation"
            )
        elif not isinstance(value, str) or not value.strip():
            builder.error(
                f'annotation {key} needs a reason, e.g. {key}: "metrics scraped by tenant monitoring, TICKET-123"',
                where,
                code="annotation",
            )
