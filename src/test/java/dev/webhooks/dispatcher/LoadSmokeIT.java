package dev.webhooks.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Keeps the load-test harness from rotting: runs {@code load-tests/run.sh smoke} (its own broker, receivers,
 * dispatcher jar and baseline, each in a JVM of its own) as a child process and fails if any event was lost. Short
 * (5 s of load, 15 s drain) and never a timed assertion: the speed figures come from the full scenarios, by hand.
 */
class LoadSmokeIT {
  private static final Path RESULTS = Path.of("target", "load-smoke");

  @Test
  void theSmokeScenarioLosesNothing() throws Exception {
    Files.createDirectories(RESULTS);
    Path log = RESULTS.resolve("run.log");
    ProcessBuilder builder = new ProcessBuilder("load-tests/run.sh", "smoke", "--duration", "5", "--drain", "15",
        "--witness", "1")
        .redirectErrorStream(true)
        .redirectOutput(log.toFile());
    // the jar was packaged by this very build; the harness (its own project) is built by run.sh
    builder.environment().put("LOAD_SKIP_PRODUCT_BUILD", "1");
    builder.environment().put("LOAD_RESULTS", RESULTS.toAbsolutePath().toString());
    Process run = builder.start();
    if (!run.waitFor(170, TimeUnit.SECONDS)) {
      run.destroyForcibly();
      throw new AssertionError("load-tests/run.sh smoke did not finish in 170 s; see " + log);
    }
    String output = Files.readString(log);
    System.out.println(output.lines().filter(l -> !l.isBlank()).reduce((a, b) -> b).orElse(""));
    assertThat(run.exitValue()).as("run.sh exit status (1 means lost events); output:%n%s", output).isZero();

    JsonNode results = new ObjectMapper().readTree(RESULTS.resolve("smoke.json").toFile());
    assertThat(results).hasSize(2);
    for (JsonNode system : results) {
      assertThat(system.get("events").asLong()).as("%s: events offered", system.get("system")).isPositive();
      assertThat(system.get("lost").asLong()).as("%s: lost events; output:%n%s", system.get("system"), output).isZero();
      assertThat(system.get("bad_signatures").asLong()).as("%s: bad signatures", system.get("system")).isZero();
      assertThat(system.get("receiver_connections").asLong()).as("%s: connections", system.get("system")).isPositive();
      for (String timeline : List.of("broker_acked_ms_by_second", "witness_latency_ms_by_second")) {
        // every second of the 5 s load had events, each acknowledged and read back by the witness some time after it
        for (int second = 0; second < 5; second++) {
          assertThat(system.get(timeline).get(second).asDouble()).as("%s: %s[%d]", system.get("system"), timeline,
              second).isPositive();
        }
      }
    }
    JsonNode targets = results.get(0).get("targets");
    assertThat(results.get(0).get("system").asText()).isEqualTo("dispatcher");
    assertThat(targets).as("the dispatcher's verdicts: start-up and nothing lost").hasSize(2);
    assertThat(targets.get(1).get("target").asText()).isEqualTo("events lost <= 0");
    assertThat(targets.get(1).get("met").asBoolean()).isTrue();
    assertThat(output).contains("Targets of issue 6 (dispatcher):");
  }
}
