"""Connecting to a Ray cluster: ``auto`` (the one running on this machine's network), ``local`` (start one
here, bound to 127.0.0.1 only) or an explicit ``HOST:PORT`` / ``ray://HOST:PORT`` address."""

from __future__ import annotations

import ipaddress
import os
import socket
from dataclasses import dataclass
from typing import Any

from studio.batch.farm import FarmError, require_ray

#: A local cluster's object store: big enough for a batch's inputs and a few finished clips, small enough to
#: share a laptop (Ray's default takes 30 % of the RAM).
LOCAL_OBJECT_STORE_BYTES = 200 * 1024 * 1024


@dataclass
class Cluster:
    address: str
    #: Whether this process started or connected the Ray session (and so shuts it down when done).
    owned: bool
    cpus: float
    gpus: float

    def shutdown(self) -> None:
        if self.owned:
            require_ray().shutdown()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def host_port(address: str) -> tuple[str, int] | None:
    bare = address.split("://", 1)[-1]
    host, sep, port = bare.rpartition(":")
    if not sep or not port.isdigit():
        return None
    return host.strip("[]"), int(port)


def stay_on_loopback() -> None:
    """Keep Ray on 127.0.0.1. Ray replaces a loopback address by the machine's routable IP unless its
    "cluster mode" is off (as it is on macOS/Windows); switching it off makes every Ray process of this
    session advertise, bind and dial 127.0.0.1. The environment carries it to the processes Ray starts."""
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    ray = require_ray()
    ray._private.ray_constants.ENABLE_RAY_CLUSTER = False  # already imported: read at call time


def _use_saved_token() -> None:
    """A head started with `ray start` checks a token by default (Ray 2.5x+); `ray start` on a worker uses the
    saved ~/.ray/auth_token by itself, a client (``ray.init(address=...)``) only when told. Do as `ray start`
    does, with Ray's own helper (it also refreshes Ray's already-loaded config); older Rays have no tokens."""
    try:
        from ray._private.authentication.authentication_token_setup import (
            maybe_enable_token_auth_if_token_available,
        )
    except ImportError:
        return
    maybe_enable_token_auth_if_token_available(warn_if_disabled=False)


def _check_reachable(address: str) -> None:
    """Fail fast: Ray itself retries an unreachable head for minutes before it gives up."""
    target = host_port(address)
    if target is None:
        raise FarmError(f"--cluster {address!r} is not an address; use auto, local, HOST:PORT or ray://HOST:PORT")
    try:
        with socket.create_connection(target, timeout=5):
            pass
    except OSError as error:
        raise FarmError(f"cannot reach the Ray cluster at {address} ({error.strerror or error}); start its head "
                        "with `ray start --head --port PORT` or use --cluster local") from None


def _check_auto_session() -> None:
    """``auto`` follows RAY_ADDRESS or the session file the last `ray start` left; a head that has stopped since
    leaves that file behind, and Ray then retries it silently for minutes. Found and named here instead."""
    try:
        from ray._common.utils import get_ray_address_file
        from ray._private.services import get_ray_address_from_environment
    except ImportError:  # another Ray: its own behaviour
        return
    try:
        found = get_ray_address_from_environment("auto", None)
    except ConnectionError:
        raise FarmError("no running Ray cluster was found on this machine; start one with `ray start --head` or "
                        "use --cluster local") from None
    target = host_port(found or "")
    if target is None:
        return
    try:
        with socket.create_connection(target, timeout=5):
            return
    except OSError:
        pass
    if os.environ.get("RAY_ADDRESS"):
        where = "RAY_ADDRESS names"
    else:
        where = f"the Ray session file {get_ray_address_file(None)} (left by an earlier `ray start`) names"
    raise FarmError(f"{where} a head at {found} that is not running any more (a stale session); run `ray stop` "
                    "and `ray start --head` again, or use --cluster local")


def connect(address: str, num_cpus: int | None = None, num_gpus: int | None = None) -> Cluster:
    """Connect this process to a cluster. Reuses a session that is already connected (tests, the window)."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray = require_ray()
    if ray.is_initialized():
        return _describe(ray, address, owned=False)
    kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
    if address == "local":
        stay_on_loopback()
        kwargs |= {"address": "local", "_node_ip_address": "127.0.0.1", "object_store_memory": LOCAL_OBJECT_STORE_BYTES,
                   "num_cpus": num_cpus, "num_gpus": num_gpus}
    elif address == "auto":
        _check_auto_session()
        _use_saved_token()
        kwargs |= {"address": "auto"}
    else:
        target = host_port(address)
        if target and _is_loopback(target[0]):
            stay_on_loopback()
        _check_reachable(address)
        _use_saved_token()
        kwargs |= {"address": address}
    try:
        ray.init(**kwargs)
    except Exception as error:  # ConnectionError, RuntimeError, ValueError: all mean "no usable cluster"
        raise FarmError(f"cannot connect to the Ray cluster at {address}: {str(error).splitlines()[0]}; start one "
                        "with `ray start --head` or use --cluster local (a head with token authentication also "
                        "needs its token here: ~/.ray/auth_token or RAY_AUTH_TOKEN)") from None
    cluster = _describe(ray, address, owned=True)
    if address == "local":
        _insist_on_loopback(ray, cluster)
    return cluster


def _describe(ray, address: str, owned: bool) -> Cluster:
    resources = ray.cluster_resources()
    return Cluster(address=address, owned=owned, cpus=float(resources.get("CPU", 0)),
                   gpus=float(resources.get("GPU", 0)))


def _insist_on_loopback(ray, cluster: Cluster) -> None:
    """A local cluster that listens beyond 127.0.0.1 is shut down rather than used."""
    addresses = {node["NodeManagerAddress"] for node in ray.nodes() if node.get("Alive")}
    if any(not _is_loopback(a) for a in addresses):
        cluster.shutdown()
        raise FarmError(f"the local Ray cluster did not bind to 127.0.0.1 (it uses {sorted(addresses)}); "
                        "not using it")


def gcs_address() -> str:
    """The address other processes on this machine connect to (``--cluster`` of a second submitter)."""
    return require_ray().get_runtime_context().gcs_address

