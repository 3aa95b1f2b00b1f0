package dev.webhooks.dispatcher.intake;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * The offset tracker against any interleaving of what the dispatcher does to it: track records (with gaps, as
 * transaction markers leave), finish them (delivered, dead-lettered or unrouted), fail them (cut short by shutdown: they
 * stay unfinished), finish them twice, and revoke the partition at any point, with completions still arriving after.
 */
class OffsetTrackerPropertyTest {

  /** One step; {@code pick} chooses which tracked record a completion applies to. */
  record Step(Kind kind, int pick) {}

  enum Kind { TRACK, DONE, FAIL, DONE_AGAIN, REVOKE }

  @Property(tries = 1000)
  void neverCommitsPastAnUnfinishedRecordAndNeverGoesBackOrLate(@ForAll("steps") List<Step> steps) {
    OffsetTracker tracker = new OffsetTracker();
    List<OffsetTracker.Ticket> tickets = new ArrayList<>();
    Set<Long> finished = new HashSet<>();
    long nextOffset = 0;
    long last = -1;
    Long frozenAt = null;

    for (Step step : steps) {
      switch (step.kind()) {
        case TRACK -> {
          if (frozenAt == null) { // a revoked partition's tracker is dropped; the dispatcher never tracks on it again
            nextOffset += 1 + step.pick() % 3;
            tickets.add(tracker.track(nextOffset));
          }
        }
        case DONE, DONE_AGAIN -> {
          if (!tickets.isEmpty()) {
            OffsetTracker.Ticket ticket = tickets.get(step.pick() % tickets.size());
            ticket.done();
            if (frozenAt == null) {
              finished.add(ticket.offset());
            }
          }
        }
        case FAIL -> { } // a failed (non-final) completion never calls done(): the record stays open
        case REVOKE -> {
          long revokedAt = tracker.revoke();
          assertThat(revokedAt).isEqualTo(last);
          frozenAt = frozenAt == null ? revokedAt : frozenAt;
        }
      }

      long committable = tracker.committable();
      assertThat(committable).as("monotonic").isGreaterThanOrEqualTo(last);
      for (OffsetTracker.Ticket ticket : tickets) {
        if (ticket.offset() < committable) {
          assertThat(finished).as("offset %d is below the commit %d", ticket.offset(), committable)
              .contains(ticket.offset());
        }
      }
      if (committable >= 0) {
        assertThat(finished).as("the commit points just past a finished record").contains(committable - 1);
      }
      if (frozenAt != null) {
        assertThat(committable).as("a revoked tracker never commits later").isEqualTo(frozenAt);
        assertThat(tracker.isRevoked()).isTrue();
      } else {
        assertThat(tracker.inFlight()).isEqualTo(tickets.size() - finished.size());
        long contiguous = contiguousWatermark(tickets, finished);
        assertThat(committable).as("commits the whole finished prefix, not less").isEqualTo(contiguous);
      }
      last = committable;
    }
  }

  @Provide
  Arbitrary<List<Step>> steps() {
    Arbitrary<Kind> kinds = Arbitraries.frequency(
        net.jqwik.api.Tuple.of(10, Kind.TRACK),
        net.jqwik.api.Tuple.of(8, Kind.DONE),
        net.jqwik.api.Tuple.of(2, Kind.FAIL),
        net.jqwik.api.Tuple.of(2, Kind.DONE_AGAIN),
        net.jqwik.api.Tuple.of(1, Kind.REVOKE));
    Arbitrary<Step> step = Combinators.combine(kinds, Arbitraries.integers().between(0, 1_000)).as(Step::new);
    return step.list().ofMaxSize(200);
  }

  /** The model: one past the last offset of the longest finished prefix, or -1 when no prefix is finished. */
  private static long contiguousWatermark(List<OffsetTracker.Ticket> tickets, Set<Long> finished) {
    long watermark = -1;
    for (OffsetTracker.Ticket ticket : tickets) {
      if (!finished.contains(ticket.offset())) {
        break;
      }
      watermark = ticket.offset() + 1;
    }
    return watermark;
  }
}
