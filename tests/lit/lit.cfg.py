# lit configuration for snnc's IR tests (FileCheck, -verify-diagnostics).
import os
import lit.formats

config.name = "snnc-lit"
config.test_format = lit.formats.ShTest(not lit_config.isWindows)
config.suffixes = [".mlir", ".onnxtxt", ".test"]
config.excludes = ["Inputs", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.snnc_obj_root, "tests", "lit")

config.environment["PATH"] = os.pathsep.join(
    [config.snnc_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", "")])
config.substitutions.append(("%snnc_src", config.snnc_src_root))

import sys
sys.path.insert(0, os.path.join(config.snnc_src_root, "tests"))
from cuda_features import add_cuda_features
add_cuda_features(config)
