package dev.webhooks.dispatcher.broker;

import dev.webhooks.dispatcher.config.ConfigException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * An exclusive hold on a {@code DATA_DIR} by one embedded broker, taken before anything is formatted or started there.
 * Kafka's own {@code .lock} is taken only when its broker part starts, after its KRaft controller has already written to
 * the metadata log; a second instance on the same directory would corrupt the first one's log before being refused.
 *
 * <p>The lock file is {@code <DATA_DIR>/kafka.lock}, beside Kafka's directory rather than in it, so that nothing Kafka
 * scans or formats ever sees a file it does not know. It is an OS lock ({@link FileChannel#tryLock}): released when it is
 * closed or when the process ends, however it ends, so a killed instance never leaves a stale lock. The file itself
 * stays: deleting it on close would let two starters lock two different files of the same name.
 */
final class DataDirLock implements AutoCloseable {
  static final String FILE_NAME = "kafka.lock";

  private final FileChannel channel;
  private final FileLock lock;

  private DataDirLock(FileChannel channel, FileLock lock) {
    this.channel = channel;
    this.lock = lock;
  }

  /**
   * Holds {@code dataDir} for this process until {@link #close}.
   *
   * @throws ConfigException when another dispatcher (or another broker in this process) holds it
   * @throws UncheckedIOException when the directory or its lock file cannot be made
   */
  static DataDirLock acquire(Path dataDir) {
    Path file = dataDir.toAbsolutePath().resolve(FILE_NAME);
    FileChannel channel;
    try {
      Files.createDirectories(file.getParent());
      channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the lock file " + file + " of DATA_DIR " + dataDir, e);
    }
    FileLock lock;
    try {
      lock = channel.tryLock(); // null: another process holds it
    } catch (OverlappingFileLockException e) {
      lock = null; // this process holds it already: another broker started here on the same DATA_DIR
    } catch (IOException e) {
      closeQuietly(channel);
      throw new UncheckedIOException("cannot lock " + file + " of DATA_DIR " + dataDir, e);
    }
    if (lock == null) {
      closeQuietly(channel);
      throw new ConfigException("DATA_DIR " + dataDir + " is in use by another running dispatcher (its embedded Kafka"
          + " holds " + file + "); stop that one, or give this one its own DATA_DIR, HTTP_PORT, MANAGEMENT_PORT and"
          + " EMBEDDED_KAFKA_PORT");
    }
    return new DataDirLock(channel, lock);
  }

  /** Lets another instance have the directory. */
  @Override
  public void close() {
    try {
      lock.release();
      channel.close();
    } catch (IOException e) {
      closeQuietly(channel); // closing the channel releases the lock in any case
    }
  }

  private static void closeQuietly(FileChannel channel) {
    try {
      channel.close();
    } catch (IOException ignored) {
      // nothing held is left to release: the lock, if any, went with the channel
    }
  }
}
