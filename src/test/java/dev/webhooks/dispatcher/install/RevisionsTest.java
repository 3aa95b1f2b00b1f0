package dev.webhooks.dispatcher.install;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RevisionsTest {
  @ParameterizedTest(name = "If-Match {0} against revision 3: {1}")
  @CsvSource(delimiter = '|', value = {
      "3|true", "\"3\"|true", "W/\"3\"|true", "*|true", "\"2\", \"3\"|true",
      "2|false", "\"2\"|false", "33|false", "\"3|false", "''|false"})
  void matchesEntityTagsAndBareRevisions(String header, boolean matches) {
    assertThat(Revisions.matches(header, "3")).isEqualTo(matches);
  }
}
