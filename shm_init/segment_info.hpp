// `brt-shm-init --info`: the header of an existing segment, for people or JSON.
#pragma once

#include <string>

#include "common/segment/segment_file.hpp"

namespace brt {

std::string segment_info_text(const MappedSegment& segment);
std::string segment_info_json(const MappedSegment& segment);

}  // namespace brt
