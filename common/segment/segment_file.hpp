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

namespace brt {

enum class SegmentAccess {
    reader,  // metadata and frame slots mapped read-only
    writer,  // everything writable
};

// One mapping of a validated segment. Move-only; unmaps and closes on destruction.
class MappedSegment {
  public:
    MappedSegment() = default;
    MappedSegment(MappedSegment&& other) noexcept;
    MappedSegment& operator=(MappedSegment&& other) noexcept;
    MappedSegment(const MappedSegment&) = delete;
    MappedSegment& operator=(const MappedSegment&) = delete;
    ~MappedSegment();

    bool is_open() const { return base_ != nullptr; }
    const std::string& name() const { return name_; }
    int fd() const { return fd_; }
    dev_t device() const { return device_; }
    ino_t inode() const { return inode_; }
    std::uint64_t size() const { return size_; }
    const SegmentLayout& layout() const { return layout_; }

    SegmentHeader& header() const { return *static_cast<SegmentHeader*>(base_); }

    // The metadata, typed. open_segment refuses a segment whose rack
    // chemistry codes are not known (docs/segment-format.md), so these are
    // the one place a code becomes a Chemistry.
    Chemistry rack_chemistry(std::uint32_t rack) const;
    std::vector<Chemistry> rack_chemistries() const;
    // Nominal capacity of every cell, Ah, in cell order.
    std::span<const float> cell_capacity_ah() const;
    std::byte* bytes() const { return static_cast<std::byte*>(base_); }
    template <typename T>
    T* at(std::uint64_t offset) const {
        return reinterpret_cast<T*>(bytes() + offset);
    }

  private:
    void release() noexcept;
    friend MappedSegment open_segment(const std::string&, SegmentAccess);
    std::string name_;
    int fd_ = -1;
    void* base_ = nullptr;
    std::uint64_t size_ = 0;
    dev_t device_ = 0;
    ino_t inode_ = 0;
    SegmentLayout layout_;
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
