"""The layout rules of the repository, checked on its sources with `ast` (nothing is imported):

(a) every engine module with logic has its mirrored test file (`slimcore/a/b.py` → `tests/test_a_b.py`);
(b) the layers point one way: pruning math imports only math, errors and the registry; model analysis imports no
    store, jobs, training or pruning orchestration;
(c) the engine never imports Streamlit; (d) the app's helpers never import the heavy ML libraries;
(e) engine modules stay short.

Each check is a function over a folder that returns its problems, one line each naming the file; the tests at the
bottom feed every check a folder with a violating file to show that it reports it.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Packages whose modules are tested together in one file, and why (keep this short: mirror by default).
PACKAGE_TESTS = {
    "slimcore/models": ("test_models.py", "the zoo is one contract (builds, trains a step, traces for pruning, BN "
                                          "init) checked over every registered family by one parametrized suite"),
}
MAX_LINES = 330
# The pure math of pruning may import only these (and the standard library, numpy, torch).
MATH_ALLOWED = ("slimcore.errors", "slimcore.registry", "slimcore.pruning.math")
# Model analysis may use the math, never what loads runs, writes files or runs jobs.
ANALYSIS_FORBIDDEN = ("slimcore.store", "slimcore.jobs", "slimcore.training")
HEAVY = ("torch", "torchvision", "torch_pruning", "onnx", "onnxruntime")


# -- reading sources ----------------------------------------------------------------------------------------
def modules(package: Path) -> list[Path]:
    """Every .py file under `package`, sorted."""
    return sorted(package.rglob("*.py"))


def dotted(path: Path, root: Path) -> str:
    """`root/slimcore/a/b.py` → `slimcore.a.b`; a package's `__init__.py` is the package itself."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def mirrored_test(path: Path, root: Path) -> str:
    """The test file a module's tests live in: `slimcore/a/b.py` → `test_a_b.py`, `slimcore/a/__init__.py` →
    `test_a.py`, `slimcore/config.py` → `test_config.py`."""
    parts = dotted(path, root).split(".")[1:] or [path.relative_to(root).parts[0]]
    return "test_" + "_".join(parts) + ".py"


def has_logic(path: Path) -> bool:
    """Whether the module defines a function or a class with a method (constants and data-only classes have none)."""
    return any(isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) for node in ast.walk(ast.parse(path.read_text())))


def imports(path: Path, root: Path) -> list[tuple[int, str]]:
    """(line, absolute module) of every import in the file, those inside functions included; `from a import b`
    gives both `a` and `a.b` (b may be a module)."""
    package = dotted(path, root).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else [])) \
                if node.level else node.module
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names if alias.name != "*"]
    return found


def _within(module: str, prefixes) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _rel(path: Path, root: Path) -> str:
    return str(path.relative_to(root))


# -- the checks ---------------------------------------------------------------------------------------------
def unmirrored(root: Path, package: str = "slimcore", tests: str = "tests",
               package_tests: dict = PACKAGE_TESTS) -> list[str]:
    """(a) Modules with logic whose test file is missing, and PACKAGE_TESTS entries that point nowhere."""
    problems = []
    for package_dir, (test_file, _) in package_tests.items():
        if not (root / package_dir).is_dir():
            problems.append(f"PACKAGE_TESTS names {package_dir}, which is not a package")
        if not (root / tests / test_file).is_file():
            problems.append(f"PACKAGE_TESTS: {package_dir} is tested in {tests}/{test_file}, which does not exist")
    for path in modules(root / package):
        if not has_logic(path):
            continue
        rel = _rel(path, root)
        together = next((v[0] for k, v in package_tests.items() if rel.startswith(k.rstrip("/") + "/")), None)
        wanted = together or mirrored_test(path, root)
        if not (root / tests / wanted).is_file():
            problems.append(f"{rel} has no test file {tests}/{wanted}")
    return problems


def layer_violations(root: Path, package: str = "slimcore") -> list[str]:
    """(b) Imports against the direction of the layers: math → only math, errors, registry; analysis → no store,
    jobs, training or pruning orchestration."""
    problems = []
    for path in modules(root / package / "pruning" / "math"):
        for line, module in imports(path, root):
            if _within(module, (package,)) and not _within(module, [p.replace("slimcore", package, 1)
                                                                    for p in MATH_ALLOWED]):
                problems.append(f"{_rel(path, root)}:{line} imports {module}; pruning math may import only "
                                f"{', '.join(MATH_ALLOWED)}")
    forbidden = [p.replace("slimcore", package, 1) for p in ANALYSIS_FORBIDDEN]
    for path in modules(root / package / "analysis"):
        for line, module in imports(path, root):
            orchestration = _within(module, (f"{package}.pruning",)) and not _within(module, (f"{package}.pruning.math",))
            if _within(module, forbidden) or orchestration:
                problems.append(f"{_rel(path, root)}:{line} imports {module}; model analysis may not import the store, "
                                "jobs, training or pruning orchestration")
    return problems


def forbidden_imports(root: Path, folder: str, names) -> list[str]:
    """(c, d) Imports of the top-level modules `names` anywhere under `folder`."""
    return [f"{_rel(path, root)}:{line} imports {module}"
            for path in modules(root / folder) for line, module in imports(path, root)
            if module.split(".")[0] in names]


def too_long(root: Path, package: str = "slimcore", max_lines: int = MAX_LINES) -> list[str]:
    """(e) Engine modules longer than `max_lines` lines."""
    problems = []
    for path in modules(root / package):
        n = len(path.read_text().splitlines())
        if n > max_lines:
            problems.append(f"{_rel(path, root)} has {n} lines (at most {max_lines}); split it by what its parts do")
    return problems


# -- the repository follows the rules -----------------------------------------------------------------------
def test_every_engine_module_with_logic_has_its_test_file():
    problems = unmirrored(ROOT)
    assert not problems, "\n".join(problems)


def test_pruning_math_and_model_analysis_import_only_downwards():
    problems = layer_violations(ROOT)
    assert not problems, "\n".join(problems)


def test_the_engine_never_imports_streamlit():
    problems = forbidden_imports(ROOT, "slimcore", ("streamlit",))
    assert not problems, "\n".join(problems)


def test_the_app_helpers_import_no_ml_library():
    problems = forbidden_imports(ROOT, "app_support", HEAVY)
    assert not problems, "\n".join(problems)


def test_engine_modules_stay_short():
    problems = too_long(ROOT)
    assert not problems, "\n".join(problems)


def test_the_checks_read_the_real_tree():
    """Guards against checks that pass because they look at nothing."""
    assert len(modules(ROOT / "slimcore")) > 50 and len(modules(ROOT / "app_support")) > 3
    assert sum(has_logic(p) for p in modules(ROOT / "slimcore")) > 50
    assert "slimcore.pruning.math.flops" in {m for _, m in imports(ROOT / "slimcore/analysis/conv_bn.py", ROOT)}
    assert "streamlit" in {m for p in modules(ROOT / "pages") for _, m in imports(p, ROOT)}  # a real import is seen
    assert mirrored_test(ROOT / "slimcore/pruning/math/plan.py", ROOT) == "test_pruning_math_plan.py"
    assert mirrored_test(ROOT / "slimcore/config.py", ROOT) == "test_config.py"
    assert mirrored_test(ROOT / "slimcore/pruning/__init__.py", ROOT) == "test_pruning.py"


# -- each check reports a violating file ----------------------------------------------------------------------
def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_a_module_with_logic_and_no_test_file_is_reported(tmp_path):
    root = write(tmp_path, {
        "slimcore/__init__.py": "",
        "slimcore/tools/helper.py": "def f():\n    return 1\n",  # logic, no test: reported
        "slimcore/tools/constants.py": "X = 1\nclass Point:\n    x: int = 0\n",  # no logic: no test needed
        "slimcore/tools/__init__.py": "class Lazy:\n    def get(self):\n        return 1\n",
        "slimcore/zoo/cat.py": "def cat():\n    pass\n",  # tested with its package below
        "slimcore/config.py": "def load():\n    pass\n",
        "tests/test_config.py": "", "tests/test_zoo.py": "",
    })
    assert unmirrored(root, package_tests={"slimcore/zoo": ("test_zoo.py", "one suite")}) == [
        "slimcore/tools/__init__.py has no test file tests/test_tools.py",
        "slimcore/tools/helper.py has no test file tests/test_tools_helper.py",
    ]
    assert unmirrored(root, package_tests={}) == [
        "slimcore/tools/__init__.py has no test file tests/test_tools.py",
        "slimcore/tools/helper.py has no test file tests/test_tools_helper.py",
        "slimcore/zoo/cat.py has no test file tests/test_zoo_cat.py",
    ]
    stale = unmirrored(root, package_tests={"slimcore/zoo": ("test_cats.py", ""), "slimcore/gone": ("test_zoo.py", "")})
    assert stale[:2] == ["PACKAGE_TESTS: slimcore/zoo is tested in tests/test_cats.py, which does not exist",
                         "PACKAGE_TESTS names slimcore/gone, which is not a package"]


def test_imports_against_the_layers_are_reported_wherever_they_are(tmp_path):
    root = write(tmp_path, {
        "slimcore/pruning/math/plan.py": "import numpy\nfrom slimcore.errors import ConfigError\n"
                                         "from slimcore.pruning.math.flops import x\nfrom . import groups\n",
        "slimcore/pruning/math/bad.py": "def f():\n    from slimcore.store.runs import RunStore\n",
        "slimcore/pruning/math/sneaky.py": "from .. import curve\nimport slimcore.models\n",
        "slimcore/analysis/ok.py": "from slimcore.pruning.math.groups import G\nfrom slimcore.errors import E\n",
        "slimcore/analysis/walk.py": "import slimcore.jobs.control\nfrom slimcore.pruning.trained import load\n",
    })
    assert layer_violations(root) == [
        "slimcore/pruning/math/bad.py:2 imports slimcore.store.runs; pruning math may import only slimcore.errors, "
        "slimcore.registry, slimcore.pruning.math",
        "slimcore/pruning/math/bad.py:2 imports slimcore.store.runs.RunStore; pruning math may import only "
        "slimcore.errors, slimcore.registry, slimcore.pruning.math",
        "slimcore/pruning/math/sneaky.py:1 imports slimcore.pruning; pruning math may import only slimcore.errors, "
        "slimcore.registry, slimcore.pruning.math",
        "slimcore/pruning/math/sneaky.py:1 imports slimcore.pruning.curve; pruning math may import only "
        "slimcore.errors, slimcore.registry, slimcore.pruning.math",
        "slimcore/pruning/math/sneaky.py:2 imports slimcore.models; pruning math may import only slimcore.errors, "
        "slimcore.registry, slimcore.pruning.math",
        "slimcore/analysis/walk.py:1 imports slimcore.jobs.control; model analysis may not import the store, jobs, "
        "training or pruning orchestration",
        "slimcore/analysis/walk.py:2 imports slimcore.pruning.trained; model analysis may not import the store, jobs, "
        "training or pruning orchestration",
        "slimcore/analysis/walk.py:2 imports slimcore.pruning.trained.load; model analysis may not import the store, "
        "jobs, training or pruning orchestration",
    ]


def test_forbidden_libraries_are_reported_even_inside_functions(tmp_path):
    root = write(tmp_path, {
        "app_support/ok.py": "import json\nfrom slimcore import jobs\nimport onnxscript_like\n",
        "app_support/upload.py": "def read(b):\n    import torch\n    return torch.load(b)\n",
        "app_support/export.py": "from onnxruntime import InferenceSession\nimport torch_pruning as tp\n",
        "app_support/sub/deep.py": "class A:\n    def m(self):\n        from torchvision.models import vgg11\n",
        "slimcore/page.py": "import streamlit as st\n",
        "slimcore/fine.py": "import streamlit_like\n",
    })
    assert forbidden_imports(root, "app_support", HEAVY) == [
        "app_support/export.py:1 imports onnxruntime", "app_support/export.py:1 imports onnxruntime.InferenceSession",
        "app_support/export.py:2 imports torch_pruning", "app_support/sub/deep.py:3 imports torchvision.models",
        "app_support/sub/deep.py:3 imports torchvision.models.vgg11", "app_support/upload.py:2 imports torch",
    ]
    assert forbidden_imports(root, "slimcore", ("streamlit",)) == ["slimcore/page.py:1 imports streamlit"]


def test_a_module_over_the_limit_is_reported_with_its_length(tmp_path):
    root = write(tmp_path, {"slimcore/short.py": "x = 1\n" * 330, "slimcore/a/long.py": "x = 1\n" * 331})
    assert too_long(root) == ["slimcore/a/long.py has 331 lines (at most 330); split it by what its parts do"]


@pytest.mark.parametrize("package_dir", sorted(PACKAGE_TESTS))
def test_each_package_tested_together_says_why(package_dir):
    test_file, reason = PACKAGE_TESTS[package_dir]
    assert test_file.startswith("test_") and len(reason.split()) >= 5
