# lit configuration for snnc's end-to-end tests: compile a model, train it.
import os
import lit.formats

config.name = "snnc-e2e"
config.test_format = lit.formats.ShTest(not lit_config.isWindows)
config.suffixes = [".test"]
config.excludes = ["Inputs"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.snnc_obj_root, "tests", "e2e")
config.substitutions.append(("%snnc_src", config.snnc_src_root))
config.substitutions.append(("%snnc_obj", config.snnc_obj_root))
config.environment["PATH"] = os.pathsep.join(
    [config.snnc_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", "")])

if config.snnc_fuzzer and os.path.exists(config.snnc_fuzzer):
    config.available_features.add("fuzzer")
if getattr(config, "snnc_data_fuzzer", "") and os.path.exists(config.snnc_data_fuzzer):
    config.available_features.add("data-fuzzer")
if getattr(config, "snnc_nir_fuzzer", "") and os.path.exists(config.snnc_nir_fuzzer):
    config.available_features.add("nir-fuzzer")

import sys
sys.path.insert(0, os.path.join(config.snnc_src_root, "tests"))
from cuda_features import add_cuda_features
add_cuda_features(config)

# The CPU's vector extensions (oneDNN picks its kernels from them; the
# trainer reports them: runtime/cpu/CpuKernels.cpp).
try:
    with open("/proc/cpuinfo") as f:
        flags = next((l.split(":", 1)[1].split() for l in f
                      if l.startswith("flags")), [])
except OSError:
    flags = []
if "avx2" in flags and "fma" in flags:
    config.available_features.add("avx2")

# NIR's own Python package in the tests' environment (scripts/test-venv.sh):
# %nirpy runs Python with it.
nirpy = os.path.join(config.snnc_obj_root, "venv", "bin", "python")
if os.path.exists(nirpy):
    import subprocess
    if subprocess.run([nirpy, "-c", "import nir"],
                      capture_output=True).returncode == 0:
        config.available_features.add("nir-python")
config.substitutions.append(("%nirpy", nirpy))

# Data parallelism (docs/data-parallel.md): Open MPI's mpirun and snnc's MPI
# module. %mpirun N runs N ranks on this machine (oversubscribed: CI has 2
# cores; as root, which Open MPI refuses unless told; without the
# single-copy transfer that containers forbid).
import shutil
mpirun = shutil.which("mpirun")
if mpirun and os.path.exists(os.path.join(config.snnc_obj_root, "lib", "libsnnmpi.so")):
    config.available_features.add("mpi")
    for k, v in {"OMPI_ALLOW_RUN_AS_ROOT": "1",
                 "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
                 "OMPI_MCA_btl_vader_single_copy_mechanism": "none",
                 "OMPI_MCA_rmaps_base_oversubscribe": "1"}.items():
        config.environment[k] = v
else:
    lit_config.note("Open MPI (mpirun) or snnc's libsnnmpi.so is missing: the "
                    "data-parallel tests (mpi.test) are skipped; "
                    "scripts/install-deps.sh installs openmpi-bin and "
                    "libopenmpi-dev")
config.substitutions.append(("%mpirun", "mpirun --oversubscribe -np"))
