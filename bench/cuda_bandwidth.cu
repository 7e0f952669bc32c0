// Bandwidth baselines for bench_cuda, measured with the CUDA runtime (kept
// out of bench_cuda.cpp: nvcc's front end cannot compile fmt's format checks).
#include "bench/cuda_bandwidth.hpp"

#include <cuda_runtime.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/segment/clock.hpp"

namespace brt::bench {
namespace {

void check(cudaError_t error, const char* what) {
    if (error != cudaSuccess) {
        throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(error));
    }
}

double seconds_since(std::uint64_t start_ns) {
    return (monotonic_ns() - start_ns) / 1e9;
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

}  // namespace

double device_copy_gb_per_s(std::uint64_t bytes) {
    void* from = nullptr;
    void* to = nullptr;
    check(cudaMalloc(&from, bytes), "cudaMalloc");
    check(cudaMalloc(&to, bytes), "cudaMalloc");
    check(cudaMemset(from, 1, bytes), "cudaMemset");
    std::vector<double> times;
    for (int i = 0; i < 6; ++i) {
        check(cudaDeviceSynchronize(), "sync");
        const std::uint64_t start = monotonic_ns();
        check(cudaMemcpy(to, from, bytes, cudaMemcpyDeviceToDevice), "device copy");
        check(cudaDeviceSynchronize(), "sync");
        times.push_back(seconds_since(start));
    }
    cudaFree(from);
    cudaFree(to);
    times.erase(times.begin());  // warm-up
    return 2.0 * bytes / median(times) / 1e9;
}

double host_link_gb_per_s(std::uint64_t bytes) {
    void* device = nullptr;
    void* host = nullptr;
    check(cudaMalloc(&device, bytes), "cudaMalloc");
    check(cudaMallocHost(&host, bytes), "cudaMallocHost");
    std::vector<double> times;
    for (int i = 0; i < 6; ++i) {
        const std::uint64_t start = monotonic_ns();
        check(cudaMemcpy(host, device, bytes, cudaMemcpyDeviceToHost), "host copy");
        times.push_back(seconds_since(start));
    }
    cudaFree(device);
    cudaFreeHost(host);
    times.erase(times.begin());
    return bytes / median(times) / 1e9;
}

std::uint64_t l2_cache_bytes(int device) {
    int bytes = 0;
    check(cudaDeviceGetAttribute(&bytes, cudaDevAttrL2CacheSize, device), "L2 cache size");
    return static_cast<std::uint64_t>(bytes);
}

}  // namespace brt::bench
