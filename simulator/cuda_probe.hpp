// Is there a GPU this binary's CUDA backend can run on? Asked once at start.
// Built from cuda_probe.cu where nvcc was found, and from cuda_probe_none.cpp
// otherwise, so the answer is always a plain yes or no with the reason.
#pragma once

#include <string>

namespace brt {

struct CudaProbe {
    bool usable = false;
    int device = -1;          // the device the backend would use
    std::string description;  // usable: "NVIDIA H200 (device 0, sm_90, 139 GiB)"
    std::string why_not;      // not usable: what is missing, for the user
};

CudaProbe probe_cuda();

}  // namespace brt
