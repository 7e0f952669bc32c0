// Creating, opening, validating and mapping the segment. Validation happens
// here, once, before any other code touches an offset from the header.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "chemistry.hpp"
#include "segment_layout.hpp"
#include "shm_file.hpp"

namespace brt {

enum class SegmentAccess {
    reader,  // metadata and frame slots mapped read-only
    writer,  // everything writable
};

// One mapping of a validated segment. Move-only; unmaps and closes on destruction.
class MappedSegment {
  public:
    bool is_open() const { return mapping_.is_open(); }
    const std::string& name() const { return mapping_.name(); }
    int fd() const { return mapping_.fd(); }
    dev_t device() const { return mapping_.device(); }
    ino_t inode() const { return mapping_.inode(); }
    std::uint64_t size() const { return mapping_.size(); }
    const SegmentLayout& layout() const { return layout_; }
    // The file was shrunk under this mapping (see ShmMapping): what was read
    // from it may be zeros. truncated() is one atomic load; shrunk() adds an
    // fstat, and also sees a shrink no access has run into yet.
    bool truncated() const { return mapping_.truncated(); }
    bool shrunk() const { return mapping_.shrunk(); }
    std::uint64_t file_size_now() const { return mapping_.file_size_now(); }

    SegmentHeader& header() const { return *reinterpret_cast<SegmentHeader*>(bytes()); }

    // The metadata, typed. open_segment refuses a segment whose rack
    // chemistry codes are not known (docs/segment-format.md) and keeps the
    // codes it checked (they never change after creation), so these never
    // fail on memory changed or truncated behind our back.
    Chemistry rack_chemistry(std::uint32_t rack) const;
    std::vector<Chemistry> rack_chemistries() const;
    // Nominal capacity of every cell, Ah, in cell order.
    std::span<const float> cell_capacity_ah() const;
    std::byte* bytes() const { return mapping_.bytes(); }
    template <typename T>
    T* at(std::uint64_t offset) const {
        return reinterpret_cast<T*>(bytes() + offset);
    }

  private:
    friend MappedSegment open_segment(const std::string&, SegmentAccess);
    ShmMapping mapping_;
    SegmentLayout layout_;
    std::vector<Chemistry> rack_chemistry_;
};

// Opens and validates an existing segment. `name` must be normalized.
// Throws SegmentError: no_segment, initialising, bad_magic, abi_mismatch,
// truncated, malformed, permission, system. Each message says what to do.
MappedSegment open_segment(const std::string& name, SegmentAccess access);

// Validates a mapped header against the file size; throws SegmentError.
// Exposed so tests can check each corruption case directly.
SegmentLayout validate_header(const SegmentHeader& header, std::uint64_t file_size,
                              const std::string& name);

struct CreateOptions {
    Geometry geometry;
    std::uint32_t slot_count = kDefaultSlots;
    std::vector<Chemistry> rack_chemistry;  // one entry for all racks, or one per rack
    mode_t mode = 0660;
    std::optional<gid_t> group;
};

// Creates a new segment (the name must not exist) and fills header and
// metadata; the magic is stored last. Throws SegmentError (no_space, system,
// permission). On failure nothing is left behind.
void create_segment(const std::string& name, const CreateOptions& options);

// Removes the name; mappings that processes hold stay valid until unmapped.
// Returns false if there was nothing to remove.
bool remove_segment(const std::string& name);

// Bytes free in /dev/shm, or empty when it cannot be determined.
std::optional<std::uint64_t> shm_bytes_free();

}  // namespace brt
