// The probe of a build without nvcc: never a GPU.
#include "simulator/cuda_probe.hpp"

namespace brt {

CudaProbe probe_cuda() {
    CudaProbe probe;
    probe.why_not =
        "this build has no CUDA backend (nvcc was not found when it was configured; rebuild with "
        "-Dcuda=enabled on a machine with the CUDA Toolkit)";
    return probe;
}

}  // namespace brt
