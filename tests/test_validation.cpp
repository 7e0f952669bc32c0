// A malformed segment is refused with a message that says what is wrong and
// what to do, and is never written to.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <functional>

#include "common/segment/errors.hpp"
#include "common/segment/segment_file.hpp"
#include "common/segment/segment_writer.hpp"
#include "common/segment/shm_name.hpp"
#include "support/test_segment.hpp"

using namespace brt;

namespace {

// Applies `corrupt` to the raw bytes of the named segment.
void corrupt_segment(const std::string& name, const std::function<void(std::byte*)>& corrupt) {
    const int fd = shm_open(shm_open_name(name).c_str(), O_RDWR, 0);
    REQUIRE(fd >= 0);
    void* base = mmap(nullptr, kPageSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    REQUIRE(base != MAP_FAILED);
    corrupt(static_cast<std::byte*>(base));
    munmap(base, kPageSize);
    close(fd);
}

SegmentErrorKind open_error_kind(const std::string& name, std::string& message) {
    try {
        open_segment(name, SegmentAccess::reader);
    } catch (const SegmentError& error) {
        message = error.what();
        return error.kind();
    }
    FAIL("open_segment accepted a broken segment");
    return SegmentErrorKind::system;
}

}  // namespace

TEST_CASE("a missing segment says to run shm_init", "[validation]") {
    std::string message;
    CHECK(open_error_kind("brt_test_does_not_exist", message) == SegmentErrorKind::no_segment);
    CHECK_THAT(message, Catch::Contains("brt-shm-init"));
}

TEST_CASE("wrong magic is refused", "[validation]") {
    test::ScopedSegment scoped("magic");
    corrupt_segment(scoped.name(), [](std::byte* bytes) { std::memcpy(bytes, "NOTOURS!", 8); });
    std::string message;
    CHECK(open_error_kind(scoped.name(), message) == SegmentErrorKind::bad_magic);
    CHECK_THAT(message, Catch::Contains("not a battery-rack telemetry segment"));
    CHECK_THAT(message, Catch::Contains("--force"));
}

TEST_CASE("another ABI version is refused naming both versions", "[validation]") {
    test::ScopedSegment scoped("abi");
    corrupt_segment(scoped.name(), [](std::byte* bytes) {
        const std::uint32_t other_version = kAbiVersion + 1;
        std::memcpy(bytes + offsetof(SegmentHeader, abi_version), &other_version, 4);
    });
    std::string message;
    CHECK(open_error_kind(scoped.name(), message) == SegmentErrorKind::abi_mismatch);
    CHECK_THAT(message, Catch::Contains("ABI version " + std::to_string(kAbiVersion + 1)));
    CHECK_THAT(message, Catch::Contains("ABI version " + std::to_string(kAbiVersion)));
}

TEST_CASE("a truncated segment is refused", "[validation]") {
    test::ScopedSegment scoped("truncated");
    const int fd = shm_open(shm_open_name(scoped.name()).c_str(), O_RDWR, 0);
    REQUIRE(fd >= 0);
    REQUIRE(ftruncate(fd, 3 * kPageSize) == 0);
    close(fd);
    std::string message;
    CHECK(open_error_kind(scoped.name(), message) == SegmentErrorKind::truncated);
    CHECK_THAT(message, Catch::Contains("truncated"));

    SECTION("even below the size of a header") {
        const int small_fd = shm_open(shm_open_name(scoped.name()).c_str(), O_RDWR, 0);
        REQUIRE(ftruncate(small_fd, 100) == 0);
        close(small_fd);
        CHECK(open_error_kind(scoped.name(), message) == SegmentErrorKind::truncated);
    }
}

TEST_CASE("zero or absurd geometry in a header is refused", "[validation]") {
    test::ScopedSegment scoped("geometry");
    SECTION("zero racks") {
        corrupt_segment(scoped.name(), [](std::byte* bytes) {
            const std::uint32_t zero = 0;
            std::memcpy(bytes + offsetof(SegmentHeader, racks), &zero, 4);
        });
    }
    SECTION("more cells than the file holds") {
        corrupt_segment(scoped.name(), [](std::byte* bytes) {
            const std::uint32_t many = 4000;
            std::memcpy(bytes + offsetof(SegmentHeader, cells_per_module), &many, 4);
        });
    }
    SECTION("an offset that disagrees with the geometry") {
        corrupt_segment(scoped.name(), [](std::byte* bytes) {
            const std::uint64_t wrong = 12345;
            std::memcpy(bytes + offsetof(SegmentHeader, slots_offset), &wrong, 8);
        });
    }
    std::string message;
    const SegmentErrorKind kind = open_error_kind(scoped.name(), message);
    CHECK((kind == SegmentErrorKind::malformed || kind == SegmentErrorKind::truncated));
    CHECK_THAT(message, Catch::Contains("--force"));
}

TEST_CASE("a field descriptor with another name, type or size is refused", "[validation]") {
    test::ScopedSegment scoped("descriptor");
    const std::size_t soc = offsetof(SegmentHeader, fields) + 3 * sizeof(FieldDescriptor);
    SECTION("name") {
        corrupt_segment(scoped.name(), [&](std::byte* bytes) {
            std::memcpy(bytes + soc + offsetof(FieldDescriptor, name), "charge", 7);
        });
    }
    SECTION("type") {
        corrupt_segment(scoped.name(), [&](std::byte* bytes) {
            const auto uint32 = static_cast<std::uint32_t>(FieldType::uint32);
            std::memcpy(bytes + soc + offsetof(FieldDescriptor, element_type), &uint32, 4);
        });
    }
    SECTION("size") {
        corrupt_segment(scoped.name(), [&](std::byte* bytes) {
            const std::uint32_t eight = 8;
            std::memcpy(bytes + soc + offsetof(FieldDescriptor, element_size), &eight, 4);
        });
    }
    std::string message;
    CHECK(open_error_kind(scoped.name(), message) == SegmentErrorKind::malformed);
    CHECK_THAT(message, Catch::Contains("field descriptor 3 is not 'soc'"));
}

TEST_CASE("a generation of 0 is refused", "[validation]") {
    // A creator always writes a random non-zero generation; readers compare
    // it to tell a re-created segment, so 0 means the header is not ours.
    test::ScopedSegment scoped("generation");
    corrupt_segment(scoped.name(), [](std::byte* bytes) {
        const std::uint64_t zero = 0;
        std::memcpy(bytes + offsetof(SegmentHeader, generation), &zero, 8);
    });
    std::string message;
    CHECK(open_error_kind(scoped.name(), message) == SegmentErrorKind::malformed);
    CHECK_THAT(message, Catch::Contains("generation is 0"));
    CHECK_THAT(message, Catch::Contains("--force"));
}

TEST_CASE("a frame counter beyond 2^63 - 1 is refused, by readers and the writer",
          "[validation]") {
    // A writer would go on from 2^64 - 1 to 0, 1, 2, and readers waiting for
    // a frame newer than 2^64 - 1 would wait forever.
    test::ScopedSegment scoped("frame-top");
    corrupt_segment(scoped.name(), [](std::byte* bytes) {
        const std::uint64_t top = ~std::uint64_t{0};
        std::memcpy(bytes + offsetof(SegmentHeader, latest_frame), &top, 8);
    });
    std::string message;
    CHECK(open_error_kind(scoped.name(), message) == SegmentErrorKind::malformed);
    CHECK_THAT(message, Catch::Contains("latest_frame is 18446744073709551615"));
    CHECK_THAT(message, Catch::Contains("--force"));
    try {
        SegmentWriter::acquire(scoped.name(), 0);
        FAIL("the writer attached");
    } catch (const SegmentError& error) {
        CHECK(error.kind() == SegmentErrorKind::malformed);
    }
}

TEST_CASE("an unknown rack chemistry code is refused, naming the rack and the code",
          "[validation]") {
    const Geometry geometry{3, 2, 4};
    test::ScopedSegment scoped("chemistry", geometry);
    std::uint32_t rack = 0;
    std::uint32_t code = 0;
    SECTION("a code no chemistry has") {
        rack = 1;
        code = 7;
    }
    SECTION("zero, in the last rack") {
        rack = 2;
        code = 0;
    }
    // The chemistry codes are in the metadata, after the header page.
    const int fd = shm_open(shm_open_name(scoped.name()).c_str(), O_RDWR, 0);
    REQUIRE(fd >= 0);
    const std::uint64_t offset = compute_layout(geometry, kDefaultSlots).rack_chemistry_offset;
    REQUIRE(pwrite(fd, &code, 4, static_cast<off_t>(offset + 4 * rack)) == 4);
    close(fd);
    std::string message;
    CHECK(open_error_kind(scoped.name(), message) == SegmentErrorKind::malformed);
    CHECK_THAT(message, Catch::Contains("rack " + std::to_string(rack) + " has chemistry code " +
                                        std::to_string(code)));
    CHECK_THAT(message, Catch::Contains("--force"));
}

TEST_CASE("a segment whose magic is still zero is reported as initialising", "[validation]") {
    test::ScopedSegment scoped("initialising");
    corrupt_segment(scoped.name(), [](std::byte* bytes) { std::memset(bytes, 0, 8); });
    std::string message;
    CHECK(open_error_kind(scoped.name(), message) == SegmentErrorKind::initialising);
}

TEST_CASE("segment names are validated", "[validation]") {
    CHECK(normalize_shm_name("brt_telemetry") == "brt_telemetry");
    CHECK(normalize_shm_name("/brt_telemetry") == "brt_telemetry");
    CHECK_THROWS_AS(normalize_shm_name(""), UsageError);
    CHECK_THROWS_AS(normalize_shm_name("/"), UsageError);
    CHECK_THROWS_WITH(normalize_shm_name("a/b"), Catch::Contains("contains '/'"));
    CHECK_THROWS_AS(normalize_shm_name(".."), UsageError);
    CHECK_THROWS_AS(normalize_shm_name("with space"), UsageError);
    CHECK_THROWS_AS(normalize_shm_name(std::string(300, 'x')), UsageError);
}

TEST_CASE("geometry limits are enforced before anything is created", "[validation]") {
    CHECK_THROWS_AS(validate_geometry(Geometry{0, 10, 32}, 4), UsageError);
    CHECK_THROWS_AS(validate_geometry(Geometry{20, 10, 32}, 2), UsageError);
    CHECK_THROWS_AS(validate_geometry(Geometry{20, 10, 32}, 17), UsageError);
    CHECK_THROWS_WITH(validate_geometry(Geometry{60000, 4000, 4000}, 4), Catch::Contains("cells"));
    CHECK_NOTHROW(validate_geometry(Geometry{1000, 100, 100}, 3));  // 10 million cells
}
