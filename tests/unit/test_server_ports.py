"""The ports our test servers listen on: never one an outgoing connection can hold."""

from __future__ import annotations

import pytest

from devstack import servers


def ephemeral_start() -> int:
    return int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])


def test_ports_and_their_grpc_twins_lie_below_the_ephemeral_range_and_are_never_handed_out_twice() -> None:
    picked = servers.free_ports(6, with_grpc=True) + servers.free_ports(6)
    assert len(set(picked)) == 12
    assert all(10000 <= port < 20000 for port in picked)
    assert max(picked) + 10000 < ephemeral_start()
    twins = {port + 10000 for port in picked}
    assert not twins & set(picked)


@pytest.mark.parametrize("workers", [1, 2, 3, 8])
def test_each_xdist_worker_has_its_own_slice(monkeypatch: pytest.MonkeyPatch, workers: int) -> None:
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", str(workers))
    slices = []
    for index in range(workers):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", f"gw{index}")
        slices.append(set(servers._own_ports()))
    assert all(len(s) >= 10000 // workers - 1 for s in slices)
    assert sum(len(s) for s in slices) == len(set().union(*slices)), "two workers share a port"
    assert set().union(*slices) <= set(range(10000, 20000))
