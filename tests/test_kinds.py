"""The composition: the engine knows no kind; `workflow.kinds` builds and wires them, and
nothing among `workflow/` modules imports in a circle."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_without_the_composition_firing_is_an_error_not_a_silent_skip_of_the_case_hook():
    # Importing the appraisal module alone registers nothing: an announcement fired now would
    # open no case, so the engine refuses to fire at all.
    done = _run("import workflow.appraisals, workflow.cases\n"
                "from workflow import engine\n"
                "try:\n    engine.kind_of('appraisal')\nexcept RuntimeError as e:\n    print('refused:', e)\n")
    assert "refused: no workflow kind is registered" in done.stdout, done.stderr


def test_the_composition_wires_the_announcement_to_the_case():
    done = _run("import workflow.kinds\nfrom workflow import cases, engine\n"
                "hooks = engine.kind_of('appraisal').on_enter['announced']\n"
                "print(cases.on_appraisal_announced in hooks, sorted(engine.KINDS))")
    assert done.stdout.split("\n")[0].startswith("True"), done.stderr


def test_the_app_the_cli_and_the_scheduler_compose_the_kinds():
    for module in ("api.main", "workflow.cli", "workflow.notifications.scheduler"):
        done = _run(f"import {module}\nfrom workflow import engine\nprint(sorted(engine.KINDS))")
        assert "'appraisal'" in done.stdout and "'case'" in done.stdout, (module, done.stderr)


def _module_imports() -> dict[str, set[str]]:
    """workflow module -> the workflow modules it imports at module level."""
    graph: dict[str, set[str]] = {}
    for path in (ROOT / "workflow").rglob("*.py"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        found: set[str] = set()
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
                found |= {f"{node.module}.{a.name}" for a in node.names}
        graph[name] = found
    return {m: {i for i in imports if i in graph and i != m} for m, imports in graph.items()}


def test_no_import_cycle_among_workflow_modules():
    graph = _module_imports()
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(m: str, stack: list[str]) -> None:
        state[m] = 1
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                cycles.append(stack[stack.index(n):] + [n] if n in stack else [m, n])
            elif n not in state:
                visit(n, stack + [n])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert cycles == []


def test_the_engine_imports_no_kind():
    imports = _module_imports()["workflow.engine"]
    assert not imports & {"workflow.appraisals", "workflow.cases", "workflow.kinds"}
