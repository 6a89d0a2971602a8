"""Builds backprop._backprop with the project's CMake (the only build description of the C++
code) and puts it into the package; pyproject.toml has everything else."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent  # the checkout: CMakeLists.txt, include/, src/


def project_version() -> str:
    text = (ROOT / "CMakeLists.txt").read_text()
    return re.search(r"project\(backprop VERSION ([0-9.]+)", text).group(1)


class CMakeBuild(build_ext):
    def build_extension(self, ext: Extension) -> None:
        build = Path(self.build_temp).resolve() / "cmake"
        configure = ["cmake", "-S", str(ROOT), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release",
                     "-DBACKPROP_BUILD_PYTHON=ON", "-DBACKPROP_BUILD_CLI=OFF",
                     "-DBACKPROP_BUILD_TESTS=OFF", "-DBACKPROP_BUILD_BENCH=OFF",
                     "-DBACKPROP_BUILD_EXAMPLES=OFF", f"-DPython_EXECUTABLE={sys.executable}"]
        if shutil.which("ninja"):
            configure += ["-G", "Ninja"]
        if shutil.which("ccache"):
            configure += ["-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"]
        subprocess.run(configure, check=True)
        jobs = str(os.cpu_count() or 1)
        subprocess.run(["cmake", "--build", str(build), "--target", "_backprop", "-j", jobs],
                       check=True)
        built = next((build / "python" / "backprop").glob("_backprop*.so"))
        target = Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built, target)


setup(
    version=project_version(),
    ext_modules=[Extension("backprop._backprop", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
)
