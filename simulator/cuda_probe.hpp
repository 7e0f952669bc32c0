// Is there a GPU this binary's CUDA backend can run on? Asked once at start.
// Built from cuda_probe.cu where nvcc was found, and from cuda_probe_none.cpp
// otherwise, so the answer is always a plain yes or no with the reason.
#pragma once

#include <cstdlib>
#include <string>
#include <string_view>

namespace brt {

struct CudaProbe {
    bool usable = false;
    int device = -1;          // the device the backend would use
    std::string description;  // usable: "NVIDIA H200 (device 0, sm_90, 139 GiB)"
    std::string why_not;      // not usable: what is missing, for the user
};

CudaProbe probe_cuda();

// BRT_REQUIRE_CUDA=1 in the environment: the tests and benchmarks that skip
// without a usable GPU (cuda_parity's exit code 77, bench_cuda's "skipped",
// the backend test's CPU branch) fail instead, naming the probe's reason. For
// runs on a GPU machine, where a skip means a driver too old for the CUDA
// runtime or a build without the GPU's code, not a missing GPU. The simulator
// itself does not read it (`--backend cuda` is its way to insist).
inline bool cuda_required() {
    const char* value = std::getenv("BRT_REQUIRE_CUDA");
    return value != nullptr && std::string_view(value) == "1";
}

// The message of such a failure.
inline std::string cuda_required_failure(const CudaProbe& probe) {
    return "BRT_REQUIRE_CUDA=1 but no usable GPU: " + probe.why_not;
}

}  // namespace brt
