# lit configuration that runs the gtest unit-test binaries, one lit test per
# gtest case.
import os
import lit.formats

config.name = "snnc-unit"
config.test_format = lit.formats.GoogleTest(".", "Tests")
config.test_source_root = os.path.join(config.snnc_obj_root, "tests", "unit")
config.test_exec_root = config.test_source_root
