package dev.webhooks.dispatcher.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.webhooks.dispatcher.config.ConfigException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataDirLockTest {
  @TempDir Path dataDir;

  @Test
  void aSecondHoldRefusedInThisProcessLeavesTheDirectoryLockedForOtherProcesses() throws Exception {
    try (DataDirLock held = DataDirLock.acquire(dataDir)) {
      assertThatThrownBy(() -> DataDirLock.acquire(dataDir.resolve(".")))
          .isInstanceOf(ConfigException.class).hasMessageContaining("is in use by another running dispatcher");

      assertThat(probeFromAnotherProcess()).as("another process's try").isEqualTo("held");
    }
    assertThat(probeFromAnotherProcess()).as("once released").isEqualTo("free");
    DataDirLock.acquire(dataDir).close(); // and this process may hold it again
  }

  private String probeFromAnotherProcess() throws Exception {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Process probe = new ProcessBuilder(List.of(java.toString(), "-cp", System.getProperty("java.class.path"),
        Probe.class.getName(), dataDir.resolve(DataDirLock.FILE_NAME).toString()))
        .redirectErrorStream(true).start();
    assertThat(probe.waitFor(30, TimeUnit.SECONDS)).as("the probe ends").isTrue();
    return new String(probe.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
  }

  /** Tries the lock file from a process of its own: prints {@code held} when another process holds it. */
  public static final class Probe {
    public static void main(String[] args) throws IOException {
      try (FileChannel channel = FileChannel.open(Path.of(args[0]), StandardOpenOption.WRITE)) {
        FileLock lock = channel.tryLock();
        System.out.println(lock == null ? "held" : "free");
      }
    }
  }
}
