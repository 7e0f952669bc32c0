// Marks model functions for both backends: one source of physics, compiled
// by the host compiler for the CPU backend and by nvcc for the CUDA one.
#pragma once

#if defined(__CUDACC__)
#define BRT_HD __host__ __device__
#else
#define BRT_HD
#endif
