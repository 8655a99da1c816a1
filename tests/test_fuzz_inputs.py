"""Fuzzing the loaders through the CLI: valid manifests (the bundled fixtures and policies, plus one of every
kind netverify loads) mutated by hypothesis — fields dropped, types changed, garbage, random CIDRs, ports
and selectors injected, YAML truncated, keys duplicated.

The rule for every case: no traceback, no hang (a per-case time bound), exit 0/1/2 only, and every error
line names a file and a line. The CLI runs in-process, so a case costs milliseconds; the catch-all
"internal error" path (a bug, reported as exit 2) fails the test. Numba runs on one thread here: on a
busy machine the thread pool's start-up would otherwise dominate each tiny case.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from time_limits import time_bound

from netverify.cli import main

ROOT = Path(__file__).resolve().parent.parent
CASE_SECONDS = 10  # generous: a case takes milliseconds; a hang takes forever

GENERATED = """
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: deny-tenants}
spec:
  priority: 10
  subject: {namespaces: {matchLabels: {tenant: a}}}
  ingress:
    - name: from-b
      action: Deny
      from: [{namespaces: {matchLabels: {tenant: b}}}]
      ports: [{portNumber: {protocol: TCP, port: 80}}, {portRange: {protocol: UDP, start: 1, end: 100}}]
  egress:
    - name: web
      action: Pass
      to: [{networks: [10.0.0.0/8, "fd00::/8"]}, {nodes: {matchLabels: {role: worker}}}]
      ports: [{namedPort: http}]
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec:
  subject: {pods: {namespaceSelector: {}, podSelector: {matchExpressions: [{key: app, operator: Exists}]}}}
  ingress:
    - {name: deny-all, action: Deny, from: [{pods: {namespaceSelector: {}, podSelector: {}}}]}
---
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: security}
spec: {order: 100, defaultAction: Pass}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: security.base}
spec:
  tier: security
  order: 10
  selector: app in {'web', 'api'} && !has(debug)
  namespaceSelector: projectcalico.org/name starts with 'shop'
  types: [Ingress, Egress]
  ingress:
    - action: Allow
      protocol: TCP
      source: {nets: [192.168.0.0/16], notNets: [192.168.1.0/24], selector: role == 'lb'}
      destination: {ports: [80, "8000:8080", http], notPorts: [8081]}
    - action: Deny
      protocol: ICMP
      icmp: {type: 8, code: 0}
    - action: Log
  egress:
    - action: Allow
      destination: {namespaceSelector: global(), selector: net == 'dns'}
    - action: Pass
      notProtocol: UDP
      destination: {serviceAccounts: {names: [default], selector: team == 'x'}}
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: allow-dns, namespace: shop}
spec:
  order: 500
  selector: all()
  egress:
    - action: Allow
      protocol: UDP
      destination: {ports: [53], selector: k8s-app == 'kube-dns', namespaceSelector: all()}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkSet
metadata: {name: dns, labels: {net: dns}}
spec: {nets: [8.8.8.8/32, "2001:4860:4860::8888/128"]}
---
apiVersion: projectcalico.org/v3
kind: NetworkSet
metadata: {name: partners, namespace: shop, labels: {net: partners}}
spec: {nets: [203.0.113.0/24]}
---
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: node1-eth0, labels: {host: node1}}
spec: {node: node1, interfaceName: eth0, expectedIPs: [10.0.0.1], profiles: [host-allow],
       ports: [{name: ssh, port: 22, protocol: TCP}]}
---
apiVersion: projectcalico.org/v3
kind: Profile
metadata: {name: host-allow}
spec: {ingress: [{action: Allow}], egress: [{action: Allow}], labelsToApply: {zone: a}}
---
apiVersion: v1
kind: Node
metadata: {name: node1, labels: {role: worker}}
status: {addresses: [{type: InternalIP, address: 10.0.0.1}, {type: InternalIP, address: "fd00::1"}]}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: api, namespace: shop, labels: {team: x}}
---
apiVersion: v1
kind: Pod
metadata: {name: bare, namespace: shop, labels: {app: web}}
spec:
  hostNetwork: false
  serviceAccountName: api
  containers: [{name: c, ports: [{containerPort: 80, name: http}, {containerPort: 53, protocol: UDP}]}]
  initContainers: [{name: side, restartPolicy: Always, ports: [{containerPort: 9090, name: metrics}]}]
status: {podIP: 10.1.2.3, podIPs: [{ip: 10.1.2.3}, {ip: "fd00::1:2:3"}]}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: report, namespace: shop}
spec:
  schedule: "* * * * *"
  jobTemplate: {spec: {parallelism: 2, template: {metadata: {labels: {app: report}}, spec: {containers: [{name: c}]}}}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: kube-system}
spec: {template: {metadata: {labels: {app: agent}}, spec: {hostNetwork: true, containers: [{name: c}]}}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: once, namespace: shop}
spec: {parallelism: 1, template: {spec: {containers: [{name: c}]}}}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: rs, namespace: shop}
spec: {replicas: 0, template: {metadata: {labels: {app: rs}}, spec: {containers: [{name: c}]}}}
---
apiVersion: v1
kind: ReplicationController
metadata: {name: rc, namespace: shop}
spec: {template: {metadata: {labels: {app: rc}}, spec: {serviceAccount: api, containers: [{name: c}]}}}
---
apiVersion: crd.k8s.amazonaws.com/v1alpha1
kind: ENIConfig
metadata: {name: eu-west-1a}
spec: {subnet: subnet-0123456789abcdef0, securityGroups: [sg-0123456789abcdef0]}
---
apiVersion: v1
kind: List
items:
  - apiVersion: apps/v1
    kind: StatefulSet
    metadata: {name: db, namespace: shop}
    spec: {replicas: 3, template: {metadata: {labels: {app: db}}, spec: {containers: [{name: c}]}}}
  - apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: {name: db, namespace: shop}
    spec:
      podSelector: {matchLabels: {app: db}}
      policyTypes: [Ingress, Egress]
      ingress:
        - from:
            - podSelector: {matchExpressions: [{key: app, operator: In, values: [api, web]}]}
              namespaceSelector: {matchLabels: {tenant: shop}}
            - ipBlock: {cidr: "2001:db8::/32", except: ["2001:db8::/64"]}
          ports: [{port: 5432}, {protocol: UDP, port: 1000, endPort: 2000}, {port: http}]
      egress: [{}]
"""


class SeedLoader(yaml.SafeLoader):
    """Reads seeds whatever their local tags (CloudFormation's !Ref, !Join): as the plain value beneath."""


def _untagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


SeedLoader.add_multi_constructor("!", _untagged)


def seed_files() -> list[tuple[str, list[Any]]]:
    """(name, documents) of every seed: the repository's manifests (YAML and JSON) and the generated file."""
    paths = sorted(
        p
        for folder in (ROOT / "fixtures", ROOT / "policies")
        for pattern in ("*.yaml", "*.yml", "*.json")
        for p in folder.rglob(pattern)
        if "errors" not in p.parts
    )
    seeds = [(p.name, [d for d in yaml.load_all(p.read_text(), SeedLoader) if d is not None]) for p in paths]
    generated = [d for d in yaml.safe_load_all(GENERATED) if d is not None]
    seeds += [(f"generated-{i}.yaml", [doc]) for i, doc in enumerate(generated)]
    seeds.append(("generated-all.yaml", generated))
    return seeds


SEEDS = seed_files()

# Values that stress each field: random CIDRs, ports, selectors, and plain garbage of every YAML type.
octets = st.integers(-1, 300)
cidrs = st.one_of(
    st.builds(lambda a, b, c, d, m: f"{a}.{b}.{c}.{d}/{m}", octets, octets, octets, octets, st.integers(-1, 40)),
    st.builds(lambda a, m: f"{a:x}::/{m}", st.integers(0, 0x1FFFF), st.integers(-1, 140)),
    st.sampled_from(["0.0.0.0/0", "::/0", "10.0.0.1", "::ffff:10.0.0.0/104", "10.0.0.0/8/8", "fe80::1%eth0/64"]),
)
ports = st.one_of(
    st.integers(-5, 70000),
    st.sampled_from(["80", "http", "HTTP", "a--b", "8000:8080", "9:1", "1:70000", "", "-1", "x" * 16]),
)
selectors = st.one_of(
    st.lists(
        st.sampled_from(
            [
                "app",
                "==",
                "!=",
                "'web'",
                '"x"',
                "&&",
                "||",
                "!",
                "(",
                ")",
                "has(",
                "all()",
                "global()",
                "in",
                "not in",
                "{",
                "}",
                ",",
                "contains",
                "starts with",
                "ends with",
                "k/v",
                "'",
                "\\",
            ]
        ),
        max_size=8,
    ).map(" ".join),
    st.fixed_dictionaries(
        {
            "matchExpressions": st.lists(
                st.fixed_dictionaries(
                    {
                        "key": st.sampled_from(["app", "", "a/b/c"]),
                        "operator": st.sampled_from(["In", "NotIn", "Exists", "DoesNotExist", "Eq", ""]),
                        "values": st.lists(st.text(max_size=4), max_size=2),
                    }
                ),
                max_size=2,
            )
        }
    ),
)
garbage = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(),
    st.text(max_size=20),
    st.lists(st.integers(-3, 3), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
    st.sampled_from(["", "*", "~", ".inf", "1e400", "0x10", "0o17", "2021-02-30", "<<", "yes", "on", "null"]),
    cidrs,
    ports,
    selectors,
)


def paths_of(node: Any, path: tuple = ()) -> Iterator[tuple]:
    """Every path to a value inside a document (the root excluded)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*path, key)
            yield from paths_of(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield (*path, index)
            yield from paths_of(value, (*path, index))


def parent_of(root: Any, path: tuple) -> Any:
    for part in path[:-1]:
        root = root[part]
    return root


@st.composite
def mutated_documents(draw: st.DrawFn) -> tuple[str, list[Any]]:
    name, documents = draw(st.sampled_from(SEEDS))
    documents = copy.deepcopy(documents)
    for _ in range(draw(st.integers(1, 4))):
        doc_index = draw(st.integers(0, len(documents) - 1))
        paths = list(paths_of(documents[doc_index]))
        if not paths:
            documents[doc_index] = draw(garbage)
            continue
        deep = [p for p in paths if len(p) > 1]  # mostly below apiVersion/kind, where the kinds' schemas act
        path = draw(st.sampled_from(deep if deep and draw(st.integers(0, 9)) else paths))
        parent, key = parent_of(documents[doc_index], path), path[-1]
        operation = draw(st.sampled_from(["drop", "replace", "wrap", "stringify", "duplicate", "typed", "rename"]))
        if operation == "drop":
            del parent[key]
        elif operation == "rename" and isinstance(parent, dict):
            parent[draw(st.one_of(st.text(max_size=8), st.sampled_from(["from", "except", "<<", "ports "])))] = (
                parent.pop(key)
            )
        elif operation == "replace":
            parent[key] = draw(garbage)
        elif operation == "wrap":
            parent[key] = draw(st.sampled_from([[parent[key]], {"x": parent[key]}]))
        elif operation == "stringify":
            parent[key] = str(parent[key])
        elif operation == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))
        else:  # a value fit for what the key is about
            hint = str(key).lower()
            strategy = (
                cidrs
                if "cidr" in hint or "net" in hint or "ip" in hint
                else ports
                if "port" in hint
                else selectors
                if "selector" in hint
                else garbage
            )
            parent[key] = draw(strategy)
    return name, documents


@st.composite
def mutated_text(draw: st.DrawFn) -> tuple[str, str]:
    """YAML text damaged after dumping: truncated, a line repeated (duplicate keys), garbage spliced in."""
    name, documents = draw(st.sampled_from(SEEDS))
    text = yaml.safe_dump_all(documents, sort_keys=False)
    for _ in range(draw(st.integers(1, 3))):
        operation = draw(st.sampled_from(["truncate", "repeat-line", "splice", "indent"]))
        position = draw(st.integers(0, len(text)))
        if operation == "truncate":
            text = text[:position]
        elif operation == "repeat-line":
            lines = text.splitlines(keepends=True) or [""]
            index = draw(st.integers(0, len(lines) - 1))
            lines.insert(index, lines[index])
            text = "".join(lines)
        elif operation == "splice":
            chunk = draw(st.text(alphabet=":{}[]&*!|>'\"%@`#-?,\t\n abc0123\x85\ufeff", max_size=12))
            text = text[:position] + chunk + text[position:]
        else:
            lines = text.splitlines(keepends=True) or [""]
            index = draw(st.integers(0, len(lines) - 1))
            lines[index] = " " * draw(st.integers(1, 3)) + lines[index]
            text = "".join(lines)
    return name, text


ERROR_LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>[1-9]\d*)(:\d+)?: \S")


def assert_well_behaved(command: str, path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), time_bound(CASE_SECONDS):
        code = main([command, str(path), "-f", "json", "-q"])
    stderr = err.getvalue()
    assert "internal error" not in stderr and "Traceback" not in stderr, stderr
    assert code in ((0, 2) if command == "matrix" else (0, 1, 2)), (code, stderr)
    for line in stderr.splitlines():
        found = ERROR_LINE.match(line)
        assert found and found["file"] == str(path), f"error without file and line: {line!r}"
    assert (code == 2) == bool(stderr), stderr
    json.loads(out.getvalue())  # the report of what could be read is always written, and is valid


@pytest.fixture(scope="module")
def case_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    import numba

    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        path = tmp_path_factory.mktemp("fuzz") / "case.yaml"
        # compile the kernels outside the time bound: a fresh install has no numba cache yet
        path.write_text(yaml.safe_dump_all(SEEDS[0][1]))
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            main(["matrix", str(path), "-q"])
        yield path
    finally:
        numba.set_num_threads(threads)


def fuzz(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
    )


@fuzz(700)
@given(case=mutated_documents())
def test_mutated_manifests_never_crash_matrix(case_file: Path, case: tuple[str, list[Any]]) -> None:
    case_file.write_text(yaml.safe_dump_all(case[1], sort_keys=False))
    assert_well_behaved("matrix", case_file)


@fuzz(500)
@given(case=mutated_documents())
def test_mutated_manifests_never_crash_check(case_file: Path, case: tuple[str, list[Any]]) -> None:
    case_file.write_text(yaml.safe_dump_all(case[1], sort_keys=False))
    assert_well_behaved("check", case_file)


@fuzz(800)
@given(case=mutated_text())
def test_damaged_yaml_text_never_crashes(case_file: Path, case: tuple[str, str]) -> None:
    case_file.write_text(case[1], encoding="utf-8")
    assert_well_behaved("matrix", case_file)


def test_seeds_cover_every_kind_netverify_loads() -> None:
    from netverify.load.kinds import KIND_LOADERS

    seen = {d.get("kind") for _, docs in SEEDS for d in docs} | {
        item.get("kind") for _, docs in SEEDS for d in docs for item in d.get("items", [])
    }
    assert {kind for _, kind in KIND_LOADERS} - seen == set()


@pytest.mark.parametrize(
    "text",
    [
        GENERATED[: len(GENERATED) // 2],  # truncated in the middle of a document
        GENERATED.replace("priority: 10", "priority: [10]").replace("port: 5432", "port: 99999"),
        GENERATED.replace('cidr: "2001:db8::/32"', "cidr: 2001:db8::/32/7"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a, name: b}\n" * 3,
        "\ufeff---\n- [}\n",
    ],
)
def test_a_real_process_survives_damaged_input(tmp_path: Path, text: str) -> None:
    (tmp_path / "case.yaml").write_text(text, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "netverify", "matrix", str(tmp_path), "-q"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode in (0, 2) and "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert all(ERROR_LINE.match(line) for line in result.stderr.splitlines()), result.stderr
