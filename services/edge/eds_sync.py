"""Keeps the edge's endpoint files equal to Consul's healthy instances of every service.

One blocking query per cluster; on every change the cluster's EDS file is rewritten
atomically and Envoy, watching the folder, picks it up. If Consul is down the files keep
their last content, so the edge goes on serving the instances it knew. The same sidecar keeps
Envoy's access log bounded (access_log.py).
"""
import argparse
import asyncio
import json
import logging
import pathlib
import signal

import yaml

from services.kit import logs, settings
from services.kit.registry import Consul

from .access_log import Rotation, keep_bounded
from .envoy.clusters import endpoints
from .render import write_atomically

log = logging.getLogger("edge.sync")


async def follow(consul: Consul, cluster: str, eds_dir: pathlib.Path) -> None:
    index, backoff, last = 0, 0.5, None
    while True:
        try:
            instances, new_index = await consul.healthy(cluster, index)
            index = new_index if new_index > index else 0
            targets = sorted((instance.address, instance.port) for instance in instances)
            if targets != last:
                write_atomically(eds_dir / f"{cluster}.yaml", yaml.safe_dump(endpoints(cluster, targets)))
                log.info("%s: %d healthy endpoint(s)", cluster, len(targets),
                         extra=logs.fields(cluster=cluster, endpoints=[f"{h}:{p}" for h, p in targets]))
                last = targets
            backoff = 0.5
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.warning("consul query for %s failed: %s", cluster, error)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", type=pathlib.Path, required=True)
    args = parser.parse_args()
    logs.configure("edge-sync")
    envoy_dir = args.run_dir / "envoy"
    clusters = json.loads((envoy_dir / "clusters.json").read_text())
    config = settings.load()
    consul = Consul(config.consul_addr, config.consul_acl_token)
    tasks = [asyncio.create_task(follow(consul, cluster, envoy_dir / "eds")) for cluster in clusters]
    tasks.append(asyncio.create_task(keep_bounded(Rotation.load(envoy_dir / "access_log.json"))))
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    log.info("following %s", ", ".join(clusters))
    await stop.wait()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await consul.close()


if __name__ == "__main__":
    asyncio.run(main())
