// The probe of a build with the CUDA backend: a device must exist, the driver
// must load, and this binary must hold code the device can run (sm_87, sm_90,
// or PTX the driver can compile for it).
#include <cuda_runtime.h>
#include <dlfcn.h>

#include <string>

#include "simulator/cuda_probe.hpp"

namespace brt {
namespace {

__global__ void probe_kernel() {}

std::string cuda_error_text(cudaError_t error) {
    return std::string(cudaGetErrorName(error)) + ": " + cudaGetErrorString(error);
}

bool driver_installed() {
    void* driver = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
    if (driver == nullptr) {
        return false;
    }
    dlclose(driver);
    return true;
}

}  // namespace

CudaProbe probe_cuda() {
    CudaProbe probe;
    int count = 0;
    cudaError_t error = cudaGetDeviceCount(&count);
    if (error != cudaSuccess || count == 0) {
        if (error == cudaSuccess) {
            probe.why_not = "no CUDA device is present";
        } else if (error == cudaErrorInsufficientDriver && !driver_installed()) {
            // The runtime says "insufficient driver" for no driver at all.
            probe.why_not = "no NVIDIA driver is installed (libcuda.so.1 was not found)";
        } else {
            probe.why_not = "no usable CUDA device or driver (" + cuda_error_text(error) + ")";
        }
        cudaGetLastError();  // the runtime keeps no sticky error for this, but be sure
        return probe;
    }
    const int device = 0;
    cudaDeviceProp properties{};
    error = cudaGetDeviceProperties(&properties, device);
    if (error == cudaSuccess) {
        error = cudaSetDevice(device);
    }
    cudaFuncAttributes attributes{};
    if (error == cudaSuccess) {
        // Fails with cudaErrorNoKernelImageForDevice on a GPU older than the
        // code this binary carries.
        error = cudaFuncGetAttributes(&attributes, probe_kernel);
    }
    const std::string name = properties.name[0] != '\0' ? properties.name : "CUDA device";
    if (error != cudaSuccess) {
        probe.why_not = name + " (device 0) cannot run this build's kernels (" +
                        cuda_error_text(error) + "; built for sm_87 and sm_90)";
        cudaGetLastError();
        return probe;
    }
    probe.usable = true;
    probe.device = device;
    probe.description = name + " (device 0, sm_" + std::to_string(properties.major) +
                        std::to_string(properties.minor) + ", " +
                        std::to_string(properties.totalGlobalMem >> 30) + " GiB)";
    return probe;
}

}  // namespace brt
