# lit features shared by the IR and end-to-end suites:
#   cuda-toolkit: a CUDA toolkit with libdevice (snnc then compiles the CUDA
#                 side of every trainer, and --emit=ptx works)
#   cuda-gpu:     the NVIDIA driver loads and sees a GPU
import ctypes
import os


def cuda_toolkit():
    for root in (os.environ.get("CUDA_PATH"), os.environ.get("CUDA_HOME"), "/usr/local/cuda"):
        if root and os.path.exists(os.path.join(root, "nvvm/libdevice/libdevice.10.bc")):
            return True
    return False


def cuda_gpu():
    try:
        lib = ctypes.CDLL("libcuda.so.1")
        count = ctypes.c_int(0)
        return lib.cuInit(0) == 0 and lib.cuDeviceGetCount(ctypes.byref(count)) == 0 and count.value > 0
    except OSError:
        return False


def add_cuda_features(config):
    if cuda_toolkit():
        config.available_features.add("cuda-toolkit")
    if cuda_gpu():
        config.available_features.add("cuda-gpu")
