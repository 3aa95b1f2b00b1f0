package dev.webhooks.dispatcher.intake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class OffsetTrackerTest {

  @Test
  void commitsOnlyTheContiguousPrefixOfFinishedRecords() {
    OffsetTracker tracker = new OffsetTracker();
    OffsetTracker.Ticket a = tracker.track(10);
    OffsetTracker.Ticket b = tracker.track(11);
    OffsetTracker.Ticket c = tracker.track(12);

    c.done();
    assertThat(tracker.committable()).isEqualTo(-1);
    a.done();
    assertThat(tracker.committable()).isEqualTo(11);
    b.done();
    assertThat(tracker.committable()).isEqualTo(13);
    assertThat(tracker.inFlight()).isZero();
  }

  @Test
  void skipsGapsInOffsetsLikeTransactionMarkers() {
    OffsetTracker tracker = new OffsetTracker();
    OffsetTracker.Ticket a = tracker.track(5);
    OffsetTracker.Ticket b = tracker.track(9);
    a.done();
    b.done();
    assertThat(tracker.committable()).isEqualTo(10);
  }

  @Test
  void ignoresCompletionsAfterRevocation() {
    OffsetTracker tracker = new OffsetTracker();
    OffsetTracker.Ticket a = tracker.track(0);
    OffsetTracker.Ticket b = tracker.track(1);
    a.done();
    assertThat(tracker.revoke()).isEqualTo(1);
    b.done();
    assertThat(tracker.committable()).isEqualTo(1);
    assertThat(tracker.isRevoked()).isTrue();
  }

  @Test
  void countsADoubleCompletionOnce() {
    OffsetTracker tracker = new OffsetTracker();
    OffsetTracker.Ticket a = tracker.track(0);
    tracker.track(1);
    a.done();
    a.done();
    assertThat(tracker.inFlight()).isEqualTo(1);
  }

  @Test
  void refusesOffsetsOutOfOrder() {
    OffsetTracker tracker = new OffsetTracker();
    tracker.track(3);
    assertThatThrownBy(() -> tracker.track(3)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void saysWhetherAnOffsetFollowsEveryOneTrackedEvenOnceTheyAreFinal() {
    OffsetTracker tracker = new OffsetTracker();
    assertThat(tracker.follows(0)).isTrue();
    tracker.track(5).done();

    assertThat(tracker.committable()).isEqualTo(6);
    assertThat(tracker.follows(5)).as("a consumer that went back, with nothing in flight").isFalse();
    assertThat(tracker.follows(2)).isFalse();
    assertThat(tracker.follows(6)).isTrue();
    assertThatThrownBy(() -> tracker.track(2)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void neverCommitsPastAnUnfinishedRecordInAnyCompletionOrder() {
    Random random = new Random(42);
    for (int round = 0; round < 200; round++) {
      OffsetTracker tracker = new OffsetTracker();
      List<OffsetTracker.Ticket> tickets = new ArrayList<>();
      long offset = 0;
      for (int i = 0; i < 50; i++) {
        offset += 1 + random.nextInt(3);
        tickets.add(tracker.track(offset));
      }
      List<OffsetTracker.Ticket> order = new ArrayList<>(tickets);
      Collections.shuffle(order, random);
      long last = -1;
      List<OffsetTracker.Ticket> finished = new ArrayList<>();
      for (OffsetTracker.Ticket t : order) {
        t.done();
        finished.add(t);
        long committable = tracker.committable();
        assertThat(committable).isGreaterThanOrEqualTo(last);
        for (OffsetTracker.Ticket other : tickets) {
          if (other.offset() < committable) {
            assertThat(finished).contains(other);
          }
        }
        last = committable;
      }
      assertThat(last).isEqualTo(offset + 1);
    }
  }
}
