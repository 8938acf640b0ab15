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


@pytest.mark.parametrize(
    ("pool", "left_out"),
    [(range(8332, 8335), 8333), (range(18332, 18335), 18333), (range(17017, 17020), 17018), (range(4200, 4203), 4201)],
)
def test_no_test_server_takes_the_local_stacks_ports_or_a_twin_on_them(
    monkeypatch: pytest.MonkeyPatch, pool: range, left_out: int
) -> None:
    """README's ``make up`` binds 8333 (gRPC 18333), 27018 and 4201 while other tests run."""
    monkeypatch.setattr(servers, "_own_ports", lambda: pool)
    monkeypatch.setattr(servers, "_handed_out", set())
    assert sorted(servers.free_ports(2, with_grpc=True)) == sorted(set(pool) - {left_out})
    monkeypatch.setattr(servers, "_handed_out", set())
    with pytest.raises(RuntimeError, match="no 3 free ports"):
        servers.free_ports(3, with_grpc=True)
