"""Installing the package from a checkout with Debian's packages only, by README.md's commands
("Python"): a venv made with --system-site-packages, then
`pip install --no-build-isolation --no-index ./python`, which builds the native module through
the project's CMake (python/setup.py).

pip builds in the source directory, so the test installs from a copy of the files a checkout's
package build reads (CMakeLists.txt, cmake/, include/, src/, python/): it never writes into the
checkout, and a build that needed anything else (cli/, tests/) would fail here."""
import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import backprop

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_FILES = ["CMakeLists.txt", "cmake", "include", "src", "python"]


def copy_checkout(dest: Path) -> None:
    ignore = shutil.ignore_patterns("build", "*.egg-info", "__pycache__", "*.so")
    dest.mkdir()
    for name in PACKAGE_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=ignore)
        else:
            shutil.copy2(source, dest / name)


def test_pip_installs_the_package_into_a_venv_and_it_trains(tmp_path):
    checkout = tmp_path / "checkout"
    copy_checkout(checkout)
    venv = tmp_path / "venv"
    # The test's own PYTHONPATH points at the build tree: the venv must import what pip installed.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True,
                   env=env)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-build-isolation",
                    "--no-index", str(checkout / "python")], check=True, env=env, cwd=tmp_path)

    model_path = tmp_path / "installed.safetensors"
    script = f"""
import hashlib, numpy as np, backprop, backprop.sklearn, pathlib
print(backprop.__version__)
print(pathlib.Path(backprop.__file__).resolve())
print(pathlib.Path(backprop._backprop.__file__).resolve())
package = pathlib.Path(backprop.__file__).parent
print(sorted(p.name for p in package.iterdir() if p.suffix in (".pyi", ".typed")))
rng = np.random.default_rng(0)
y = rng.integers(0, 2, 300)
X = (rng.normal(size=(300, 4)) + 3.0 * y[:, None]).astype(np.float32)
est = backprop.sklearn.MLPClassifier(hidden_layer_sizes=(8,), learning_rate_init=0.01, max_iter=30,
                                     random_state=0)
est.fit(X, y)
print(est.score(X, y))
est._model.save({str(model_path)!r})
arrays = est._model.weights() + est._model.biases()
print(hashlib.sha256(b"".join(a.tobytes() for a in arrays)).hexdigest())
"""
    out = subprocess.run([str(python), "-c", script], check=True, env=env, cwd=tmp_path,
                         capture_output=True, text=True).stdout.splitlines()
    version, module, native, typing_files, score, digest = out

    project = re.search(r"project\(backprop VERSION ([0-9.]+)",
                        (ROOT / "CMakeLists.txt").read_text()).group(1)
    assert version == project
    site = str(venv.resolve())
    assert module.startswith(site) and native.startswith(site), (module, native)
    assert typing_files == "['_backprop.pyi', 'py.typed']"
    assert float(score) >= 0.95  # two well-separated blobs

    # What the installed package wrote, the build tree's package reads: the same weights.
    model = backprop.load(str(model_path))
    assert list(model.widths) == [4, 8, 2]
    arrays = model.weights() + model.biases()
    assert hashlib.sha256(b"".join(a.tobytes() for a in arrays)).hexdigest() == digest
