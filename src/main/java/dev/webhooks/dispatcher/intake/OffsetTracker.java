package dev.webhooks.dispatcher.intake;

import java.util.ArrayDeque;

/**
 * The offsets of one partition that are in flight, and the offset that is safe to commit: the lowest one not yet
 * final (a contiguous watermark), so a crash never skips an unfinished record.
 *
 * <p>Not thread-safe: one partition's tracker is used from one Vert.x context. Once {@link #revoke() revoked}, late
 * completions change nothing, so a partition that moved to another instance never commits from here again.
 */
public final class OffsetTracker {
  private final ArrayDeque<Ticket> pending = new ArrayDeque<>();
  private long nextToCommit = -1;
  private long lastTracked = -1;
  private int inFlight;
  private boolean revoked;

  /** Starts tracking a record; offsets must be tracked in increasing order, as a partition yields them. */
  public Ticket track(long offset) {
    if (!follows(offset)) {
      throw new IllegalArgumentException("offset " + offset + " tracked out of order, after " + lastTracked);
    }
    lastTracked = offset;
    Ticket ticket = new Ticket(offset);
    pending.addLast(ticket);
    inFlight++;
    return ticket;
  }

  /**
   * Whether {@code offset} comes after every offset tracked so far. A consumer that goes back (a reset, a log truncated
   * after an unclean leader election) yields one that does not, and its partition needs a tracker of its own.
   */
  public boolean follows(long offset) {
    return offset > lastTracked;
  }

  /** The offset to commit (the next one to read after everything final), or -1 when nothing is final yet. */
  public long committable() {
    return nextToCommit;
  }

  public int inFlight() {
    return inFlight;
  }

  public boolean isRevoked() {
    return revoked;
  }

  /** Freezes the tracker: what is committable now stays the last word; later completions are ignored. */
  public long revoke() {
    revoked = true;
    return nextToCommit;
  }

  private void finish(Ticket ticket) {
    if (revoked || ticket.done) {
      return;
    }
    ticket.done = true;
    inFlight--;
    while (!pending.isEmpty() && pending.peekFirst().done) {
      nextToCommit = pending.pollFirst().offset + 1;
    }
  }

  /** One tracked record; {@link #done()} marks it final (delivered, dead-lettered or unrouted). */
  public final class Ticket {
    private final long offset;
    private boolean done;

    private Ticket(long offset) {
      this.offset = offset;
    }

    public long offset() {
      return offset;
    }

    public void done() {
      finish(this);
    }
  }
}
