"""``zhibiao batch --executor ray`` on a real local Ray: one node with 2 CPUs, and two nodes on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from robustness import DIGITAL, copy_dev_files

from conftest import DEV, require
from zhibiao.batch.manifest import Manifest, manifest_path
from zhibiao.batch.run import BatchOptions, run_batch

pytestmark = [pytest.mark.ray, pytest.mark.slow]

if os.environ.get("CI"):
    import ray
else:
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'ray>=2.40')")


def _rows(out: Path) -> dict[str, object]:
    with Manifest(manifest_path(out)) as manifest:
        return {row.rel: row for row in manifest.rows()}


def test_ray_local_two_cpus_with_hang_and_crash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require(DEV)
    rels = copy_dev_files(tmp_path / "in", DIGITAL[:6])
    for name in ("hang.txt", "kill.txt"):
        shutil.copyfile(DEV / DIGITAL[2], tmp_path / "in" / name)
    monkeypatch.setenv("ZHIBIAO_BATCH_FAULTS", "hang.txt=hang,kill.txt=kill")
    options = BatchOptions(executor="ray", workers=2, ocr=False, timeout=8)
    summary = run_batch(tmp_path / "in", tmp_path / "out", options)
    assert not ray.is_initialized(), "the Ray it started must be shut down"
    rows = _rows(tmp_path / "out")
    assert {rel for rel, r in rows.items() if r.status == "ok"} == rels
    assert (rows["hang.txt"].status, rows["kill.txt"].code) == ("timeout", "crashed")
    assert summary.records and summary.records > 0
    again = run_batch(tmp_path / "in", tmp_path / "out", options)
    assert (again.processed, again.skipped) == (0, len(rels) + 2)


def test_ray_two_node_cluster_on_loopback(tmp_path: Path) -> None:
    require(DEV)
    from ray.cluster_utils import Cluster

    rels = copy_dev_files(tmp_path / "in", DIGITAL[:6], copies=2)
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    try:
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        options = BatchOptions(executor="ray", ray_address=cluster.address, workers=2, ocr=False, timeout=120)
        summary = run_batch(tmp_path / "in", tmp_path / "out", options)
    finally:
        if ray.is_initialized():
            ray.shutdown()
        cluster.shutdown()
    rows = _rows(tmp_path / "out")
    assert set(rows) == rels and {r.status for r in rows.values()} == {"ok"}
    assert summary.ok == len(rels)
    nodes = {r.worker.split(":")[0] for r in rows.values()}
    assert len(nodes) == 2, f"both nodes should have worked: {nodes}"
