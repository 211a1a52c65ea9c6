"""A local multi-node restate-server cluster on loopback: Restate's own answer to node failure.

Every node runs all roles (metadata server, log server, worker with ingress, admin), as in
Restate's cluster deployment guide: a replicated metadata store (Raft over all nodes), the
replicated Bifrost log and partition processors replicated to ``replication`` nodes. With 3 nodes
and replication 2 the cluster keeps serving when any one node dies.
"""

from __future__ import annotations

import functools
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any, Self

import httpx

from ._lifecycle import Started
from ._ports import wait_until
from ._server import RestateServer

_LEADERS = re.compile(r"^restate_num_active_partition_leaders\{[^}]*\}\s+(\d+)", re.MULTILINE)


class RestateCluster(Started):
    """Start, talk to, kill and restart the nodes of one local cluster.

    Node 0 provisions the cluster (``auto-provision = true``); the others join it through the
    metadata servers listed in ``metadata-client.addresses``. Each node is a :class:`RestateServer`
    (its own ports and data directory), so ``cluster.nodes[i].kill()`` / ``.start()`` crash and
    recover one node. A deployment registered through any node's admin API is known cluster-wide,
    and any node's ingress accepts invocations.
    """

    def __init__(
        self,
        size: int = 3,
        *,
        base_dir: str | Path | None = None,
        replication: int = 2,
        partitions: int = 4,
        cluster_name: str = "durable-agents",
        always_replay: bool = False,
        memory_per_node: str = "512 MiB",
        startup_timeout: float = 120.0,
    ) -> None:
        if size < 1 or not 1 <= replication <= size:
            raise ValueError(f"need 1 <= replication ({replication}) <= size ({size})")
        self._owns_dir = base_dir is None
        self.base_dir = Path(base_dir or tempfile.mkdtemp(prefix="restate-cluster-"))
        self.cluster_name = cluster_name
        self.replication = replication
        self.partitions = partitions
        self.memory_per_node = memory_per_node
        self.nodes = [
            RestateServer(
                base_dir=self.base_dir / f"node-{index + 1}",
                always_replay=always_replay,
                extra_env={"RESTATE_CONFIG": str(self.base_dir / f"node-{index + 1}.toml")},
                startup_timeout=startup_timeout,
            )
            for index in range(size)
        ]

    def node_address(self, index: int) -> str:
        """The advertised node-to-node address (what ``metadata-client.addresses`` lists)."""
        return f"http://127.0.0.1:{self.nodes[index].node_port}"

    def config(self, index: int) -> str:
        """The TOML configuration of node ``index``; ports and data directory come from the
        node's :class:`RestateServer` (environment variables), everything cluster-wide from here."""
        addresses = ", ".join(f'"{self.node_address(i)}"' for i in range(len(self.nodes)))
        return "\n".join(
            [
                f'node-name = "node-{index + 1}"',
                f'cluster-name = "{self.cluster_name}"',
                f"auto-provision = {'true' if index == 0 else 'false'}",
                f"default-replication = {self.replication}",
                f"default-num-partitions = {self.partitions}",
                f'rocksdb-total-memory-size = "{self.memory_per_node}"',
                "",
                "[bifrost]",
                'default-provider = "replicated"',
                "",
                "[metadata-server]",
                'type = "replicated"',
                "",
                "[metadata-client]",
                f"addresses = [{addresses}]",
                "",
            ]
        )

    def start(self) -> Self:
        """Start every node, then wait until each one's admin API and ingress are healthy."""
        self.base_dir.mkdir(parents=True, exist_ok=True)
        for index in range(len(self.nodes)):
            (self.base_dir / f"node-{index + 1}.toml").write_text(self.config(index))
        try:
            for node in self.nodes:
                node.start(wait=False)
            for node in self.nodes:
                node.wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def partition_leaders(self) -> dict[int, int]:
        """How many partitions each live node leads (node index -> count), from the node's
        Prometheus metrics (``restate_num_active_partition_leaders`` on the node port)."""
        leaders: dict[int, int] = {}
        for index, node in enumerate(self.nodes):
            if not node.running:
                continue
            try:
                text = httpx.get(f"http://127.0.0.1:{node.node_port}/metrics", timeout=5).text
            except httpx.HTTPError:
                continue
            match = _LEADERS.search(text)
            leaders[index] = int(match.group(1)) if match else 0
        return leaders

    def wait_for_leaders(self, timeout: float = 60.0) -> dict[int, int]:
        """Block until every partition has a leader on a live node; return the leader counts."""
        wait_until(
            lambda: sum(self.partition_leaders().values()) >= self.partitions,
            timeout=timeout,
            what=f"a leader for each of the {self.partitions} partitions",
            interval=0.25,
        )
        return self.partition_leaders()

    def alive(self) -> list[RestateServer]:
        return [node for node in self.nodes if node.running]

    @property
    def ingress_urls(self) -> list[str]:
        return [node.ingress_url for node in self.nodes]

    def register(self, uri: str, *, timeout: float = 60.0) -> dict[str, Any]:
        """Register a deployment through the first live node's admin API (any node would do), then
        wait until every live node's ingress knows its services: the schema reaches the other nodes
        a moment later, and a request sent there meanwhile fails with 404 "service not found"."""
        registered = self.alive()[0].register(uri)
        names = [service["name"] for service in registered.get("services", [])]
        for node in self.alive():
            for name in names:
                wait_until(
                    functools.partial(_knows_service, node.ingress_url, name),
                    timeout=timeout,
                    what=f"the ingress of {node.ingress_url} to know service {name!r}",
                    interval=0.1,
                )
        return registered

    def query(self, sql: str, *, timeout: float = 15.0) -> list[dict[str, Any]]:
        return self.alive()[0].query(sql, timeout=timeout)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def cleanup(self) -> None:
        self.stop()
        if self._owns_dir:
            shutil.rmtree(self.base_dir, ignore_errors=True)


_PROBE_HANDLER = "__durable_agents_probe__"
"""A handler no service has: the ingress answers 404 naming either the service or the handler,
without creating an invocation."""


def _knows_service(ingress_url: str, name: str) -> bool:
    try:
        answer = httpx.get(f"{ingress_url}/{name}/{_PROBE_HANDLER}", timeout=5)
    except httpx.HTTPError:
        return False
    return f"service '{name}' not found" not in answer.text
