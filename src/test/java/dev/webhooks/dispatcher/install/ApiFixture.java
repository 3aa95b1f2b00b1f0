package dev.webhooks.dispatcher.install;

import dev.webhooks.dispatcher.testing.TestKafka;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.client.WebClient;
import java.util.concurrent.TimeUnit;

/**
 * A real installation store on a fresh topic of the test broker, and the App Install API in front of it on a port of
 * its own, with a client: what the API tests share. Each test class says how its {@link InstallApi} is built.
 */
record ApiFixture(Vertx vertx, String topic, InstallationStore store, HttpServer server, WebClient client)
    implements AutoCloseable {

  /** Builds the API under test over the started store. */
  @FunctionalInterface
  interface Api {
    InstallApi create(Vertx vertx, InstallationStore store);
  }

  static ApiFixture start(SecretCipher cipher, Api api) throws Exception {
    return start(cipher, InstallationTopics.create(), api);
  }

  /** An instance on {@code topic}, which other fixtures may share, as the pods of one deployment do. */
  static ApiFixture start(SecretCipher cipher, String topic, Api api) throws Exception {
    Vertx vertx = Vertx.vertx();
    InstallationStore store = new InstallationStore(vertx, TestKafka.connection(), topic, cipher);
    store.start().await(30, TimeUnit.SECONDS);
    HttpServer server = vertx.createHttpServer().requestHandler(api.create(vertx, store).router()).listen(0).await();
    return new ApiFixture(vertx, topic, store, server, WebClient.create(vertx));
  }

  @Override
  public void close() {
    client.close();
    server.close().await();
    store.close().await();
    vertx.close().await();
  }
}
