// The one main loop of every reader tool: attach (or wait for the segment),
// sleep until a frame or a deadline, follow the segment when it is removed
// or re-created, notice the writer's liveness changing, talk to systemd
// (READY=1, WATCHDOG=1, STATUS=, STOPPING=1), stop on SIGINT, SIGTERM or
// SIGHUP and after --duration. A tool supplies only what it does:
//
//   class Printer : public ReaderTool {
//       FrameBuffer frame_;
//       StepResult on_frame(SegmentReader& reader) override {
//           if (reader.read_next(frame_, whole_frame(reader.layout().geometry)) ==
//               ReadOutcome::ok) { ...use frame_... }
//           return keep_going;
//       }
//   };
//   SegmentReader reader(name);
//   Printer printer;
//   return run_reader_loop(reader, printer, {.duration_s = options.duration_s});
//
// Everything runs on the calling thread, in this order on every pass: wait
// (the tool's wait(), by default the segment's futex), on_frame when the
// wait says a newer frame exists, a re-attach check, a writer-status check,
// on_tick, then systemd. So a tool's hooks never race each other, and a
// stuck hook stops the watchdog pings, as it should.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "common/segment/liveness.hpp"
#include "common/segment/segment_reader.hpp"

namespace brt {

// What a hook returns: keep_going, or the exit code the tool stops with.
using StepResult = std::optional<int>;
inline constexpr StepResult keep_going = std::nullopt;

class ReaderTool {
  public:
    using Clock = std::chrono::steady_clock;
    virtual ~ReaderTool() = default;

    // The loop found the segment at start (change: attached; not called
    // when the tool attached the reader before the loop), it appeared later
    // (attached) or the name now points to a re-created one (reattached):
    // geometry and chemistry may differ from before.
    virtual StepResult on_attach(SegmentReader& reader, AttachChange change) {
        (void)reader;
        (void)change;
        return keep_going;
    }
    // The segment was removed or became unreadable; reader.last_error() says why.
    virtual void on_detach(SegmentReader& reader) { (void)reader; }
    // The writer's liveness (live, stale, no segment...) changed; also
    // called once at start.
    virtual void on_writer_change(const WriterStatus& writer) { (void)writer; }
    // wait() said a frame newer than reader.last_frame_read() exists: read it.
    virtual StepResult on_frame(SegmentReader& reader) {
        (void)reader;
        return keep_going;
    }
    // Every pass, after frames and attach changes, with the writer's status
    // (taken at most once per wait slice: it looks at the lock).
    virtual StepResult on_tick(SegmentReader& reader, const WriterStatus& writer,
                               Clock::time_point now) {
        (void)reader;
        (void)writer;
        (void)now;
        return keep_going;
    }
    // Sleeps at most `longest`; true when a frame newer than the last one
    // read may be there. The default sleeps on the segment's futex; a tool
    // that also waits for something else (keys) or paces itself overrides it.
    virtual bool wait(SegmentReader& reader, std::chrono::nanoseconds longest) {
        return reader.wait_for_frame(reader.last_frame_read(), longest);
    }
    // systemd's STATUS= line; sent when it changes, at most once a second.
    virtual std::string status_text() const { return {}; }
    // False while the tool cannot serve (say, its I/O threads are stuck):
    // WATCHDOG=1 pings stop, so systemd restarts it.
    virtual bool healthy() const { return true; }
};

struct ReaderLoopOptions {
    // The longest sleep: a dead writer is noticed within this of its stale time.
    std::chrono::milliseconds wait_slice{50};
    // How often the segment's name is looked up again (an open and an fstat).
    std::chrono::milliseconds refresh_every{1000};
    // Stop after this long (--duration); 0 runs until a signal.
    double duration_s = 0;
    // Throw the SegmentError (exit 1) when there is no segment at start;
    // otherwise start without one and attach when it appears.
    bool require_segment = true;
};

// Runs `tool` until a stop signal, options.duration_s or a hook's exit code;
// returns that code (0 after a signal or the duration).
int run_reader_loop(SegmentReader& reader, ReaderTool& tool, const ReaderLoopOptions& options);

}  // namespace brt
