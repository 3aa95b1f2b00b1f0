package dev.webhooks.loadtest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.LinkedHashSet;
import java.util.Set;

/** Ports are picked at run time, never fixed: other people run other things on this machine. */
final class Ports {
  private Ports() {}

  /**
   * {@code count} ports of localhost, all different, that were free a moment ago (a child binds them moments later; a
   * race we accept). Two ports asked for one after the other can be the same one: a run once gave the dispatcher the
   * same API and management port, and its first install was answered 404 by the management server.
   */
  static int[] free(int count) {
    Set<Integer> ports = new LinkedHashSet<>();
    while (ports.size() < count) {
      ports.add(free());
    }
    return ports.stream().mapToInt(Integer::intValue).toArray();
  }

  /** A port of localhost that was free a moment ago (the child binds it moments later; a race we accept). */
  static int free() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("localhost"))) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
