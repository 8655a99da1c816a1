"""The what-if scenario of the notebook tests: a reporting pull request on the multi-tenant example whose
shop policy admits the `api` pods of every namespace (`namespaceSelector: {}`), and its fix."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POLICIES = str(ROOT / "policies")

REPORTING_EGRESS = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: reporting-to-shop-db
  namespace: analytics
spec:
  podSelector:
    matchLabels: {app: api}
  policyTypes: [Egress]
  egress:
    - to:
        - namespaceSelector:
            matchLabels: {tenant: shop}
          podSelector:
            matchLabels: {app: db}
      ports:
        - {protocol: TCP, port: 5432}
"""

LEAKY_INGRESS = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: db-from-api
  namespace: shop
spec:
  podSelector:
    matchLabels: {app: db}
  policyTypes: [Ingress]
  ingress:
    - from:
        - namespaceSelector: {}
          podSelector:
            matchLabels: {app: api}
      ports:
        - {protocol: TCP, port: 5432}
"""

FIXED_INGRESS = LEAKY_INGRESS.replace(
    "namespaceSelector: {}", "namespaceSelector:\n            matchLabels: {kubernetes.io/metadata.name: shop}"
)
