"""Recompilations during bench's timed calls: a jitted function given a new shape at every call is
flagged with its count; a stable one is not."""

from __future__ import annotations

import sys
import types

import pytest
from conftest import needs_jax
from measurement_suite import BASE, measurement_project
from shared_sessions import SharedProject

from pytest_accel.results.file import load_results
from pytest_accel.timing.recompiles import CompileCounter, recompiled


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> SharedProject:
    return measurement_project(tmp_path_factory)


@needs_jax
def test_a_new_shape_at_every_call_is_flagged_with_its_count(project: SharedProject) -> None:
    result = project.run(*BASE)
    document = load_results(project.path / "base.json")
    benches = {b["name"]: b for r in document["results"] if "test_jit" in r["nodeid"] for b in r["benches"]}
    growing, stable = benches["new_shape_each_call"], benches["stable"]
    timed_calls = len(growing["samples"]) * growing["calls_per_sample"]
    assert growing["recompiles"] >= timed_calls  # one (or more) compilation per timed call
    assert stable["recompiles"] == 0 and not recompiled(stable) and recompiled(growing)
    warnings = [line for line in result.outlines if line.startswith("warning: ")]
    assert len(warnings) == 1, warnings  # the stable one is not flagged
    text = " ".join(line.strip() for line in result.outlines)
    assert f"bench 'new_shape_each_call' compiled {growing['recompiles']} time(s)" in text
    report = (project.path / "r.md").read_text()
    assert "### Recompiled during timing (1)" in report and "new_shape_each_call" in report


@needs_jax
def test_jax_compile_events_are_counted_in_process() -> None:
    import jax
    import jax.numpy as jnp

    f = jax.jit(lambda a: a + 1)
    f(jnp.ones(3)).block_until_ready()
    with CompileCounter() as same:
        f(jnp.ones(3)).block_until_ready()
    x = jnp.ones(64)
    with CompileCounter() as new_shapes:
        for size in (5, 6, 7):
            f(x[:size]).block_until_ready()
    assert same.count == 0
    assert new_shapes.count is not None and new_shapes.count >= 3


def test_torch_compile_graphs_are_counted_from_dynamo(monkeypatch: pytest.MonkeyPatch) -> None:
    """dynamo's graph count, read only where torch.compile is loaded (nothing is imported for it)."""
    counters = {"stats": {"unique_graphs": 4}}
    monkeypatch.setitem(sys.modules, "torch._dynamo.utils", types.SimpleNamespace(counters=counters))
    monkeypatch.delitem(sys.modules, "jax", raising=False)
    monkeypatch.delitem(sys.modules, "jax.monitoring", raising=False)
    with CompileCounter() as counter:
        counters["stats"]["unique_graphs"] += 2
    assert counter.count == 2
    monkeypatch.delitem(sys.modules, "torch._dynamo.utils")
    with CompileCounter() as nothing:
        pass
    assert nothing.count is None  # no compiler watched: not 0
