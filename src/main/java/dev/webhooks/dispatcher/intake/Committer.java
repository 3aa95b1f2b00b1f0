package dev.webhooks.dispatcher.intake;

import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.kafka.common.TopicPartition;

/** Where a lane commits its partitions' watermarks: the consumer of the group that owns them. */
public interface Committer {
  /**
   * Commits {@code offsets} asynchronously; {@code failed} hears, on the committing thread, the partitions whose commit
   * failed (a rebalance in progress, a coordinator that moved), so that they are committed again.
   */
  void commit(Map<TopicPartition, Long> offsets, Consumer<Set<TopicPartition>> failed);
}
