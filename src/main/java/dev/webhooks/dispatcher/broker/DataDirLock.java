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
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
  private static final Logger LOG = LoggerFactory.getLogger(DataDirLock.class);
  static final String FILE_NAME = "kafka.lock";
  /**
   * The lock files this process holds. A second channel must never be opened on one of them: OS locks belong to the
   * process, and on Linux closing any channel of a file drops every lock the process has on it, so a refused second
   * broker in this process would let other processes in (FileChannel's javadoc: one channel per file for locks).
   */
  private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();

  private final Path file;
  private final FileChannel channel;
  private final FileLock lock;

  private DataDirLock(Path file, FileChannel channel, FileLock lock) {
    this.file = file;
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
    Path file = dataDir.toAbsolutePath().normalize().resolve(FILE_NAME);
    if (!HELD.add(file)) { // another broker in this process holds it: opening the file again would unlock it
      throw inUse(dataDir, file);
    }
    FileChannel channel;
    try {
      Files.createDirectories(file.getParent());
      channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    } catch (IOException e) {
      HELD.remove(file);
      throw new UncheckedIOException("cannot create the lock file " + file + " of DATA_DIR " + dataDir, e);
    }
    FileLock lock;
    try {
      lock = channel.tryLock(); // null: another process holds it
    } catch (IOException | OverlappingFileLockException e) {
      closeQuietly(channel);
      HELD.remove(file);
      throw new IllegalStateException("cannot lock " + file + " of DATA_DIR " + dataDir + ": " + e, e);
    }
    if (lock == null) {
      closeQuietly(channel);
      HELD.remove(file);
      throw inUse(dataDir, file);
    }
    return new DataDirLock(file, channel, lock);
  }

  private static ConfigException inUse(Path dataDir, Path file) {
    return new ConfigException("DATA_DIR " + dataDir + " is in use by another running dispatcher (its embedded Kafka"
        + " holds " + file + "); stop that one, or give this one its own DATA_DIR, HTTP_PORT, MANAGEMENT_PORT and"
        + " EMBEDDED_KAFKA_PORT");
  }

  /** Lets another instance have the directory. */
  @Override
  public void close() {
    try {
      lock.release();
      channel.close();
    } catch (IOException e) {
      LOG.warn("Releasing {} failed ({}); closing its channel releases it", file, e.toString());
      closeQuietly(channel);
    } finally {
      HELD.remove(file);
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
