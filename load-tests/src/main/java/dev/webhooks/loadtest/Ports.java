package dev.webhooks.loadtest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/** Ports are picked at run time, never fixed: other people run other things on this machine. */
final class Ports {
  private Ports() {}

  /** A port of localhost that was free a moment ago (the child binds it moments later; a race we accept). */
  static int free() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("localhost"))) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
