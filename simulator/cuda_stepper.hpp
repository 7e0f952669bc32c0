// The CUDA backend: every cell's state lives on the GPU between publishes;
// one kernel launch runs all the physics steps of a publish interval (one
// thread block per rack, the rack's limits reduced on the device each step),
// a second measures every cell into a device copy of a frame slot's columns,
// and one device-to-host copy puts that straight into the slot, inside its
// seqlock write section.
//
// Host-only interface (no CUDA types), so the run loop and the tests are
// plain C++. Every CUDA call is checked; a failure throws CudaError and
// publishes nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "common/segment/segment_writer.hpp"
#include "simulator/simulation.hpp"

namespace brt {

class CudaError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

class CudaStepper {
  public:
    // Uploads the simulation's state to `device`.
    CudaStepper(Simulation& simulation, int device);
    ~CudaStepper();
    CudaStepper(const CudaStepper&) = delete;
    CudaStepper& operator=(const CudaStepper&) = delete;

    // Runs `steps` physics steps of every rack on the device, then advances
    // the simulation's clock. The racks' state comes back to the host after
    // (the run loop and the frame's rack table read it); the cells' stays.
    void run(std::uint64_t steps);

    // Measures every cell on the device and publishes the frame into the
    // writer's next slot. The first call for a writer registers its segment's
    // slots with the driver; where that is refused, frames go through a
    // pinned staging buffer instead (publish_path() says which).
    std::uint64_t publish(SegmentWriter& writer);
    const std::string& publish_path() const;
    // True once frames go straight into the registered slots (the fast path;
    // false before the first publish and on the staging path).
    bool publish_registered() const;

    // Copies the cells' state back into simulation.cells() (for the tests).
    void download_cells();
    // Measures a frame on the device and copies its columns into `out`
    // (FrameData's layout, for the tests); the views stay valid until the
    // next call.
    FrameData measure_frame();

  private:
    struct Device;
    std::unique_ptr<Device> device_;
};

}  // namespace brt
