package dev.webhooks.dispatcher.ops;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.webhooks.dispatcher.config.Config;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.SecretVolumeSource;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.networking.v1.IPBlock;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyEgressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Renders {@code k8s/overlays/production} (and its KEDA variant) with {@code kubectl kustomize}, reads every object with
 * the fabric8 Kubernetes model, and checks what operators rely on: probes on the management port, requests and limits,
 * non-root with a read-only root filesystem, a grace period longer than the drain, secrets only by reference, scaling
 * within the partitions, a disruption budget, egress only to DNS, Kafka and public HTTPS, monitoring, and the same
 * alert rules as {@code deploy/}. Skipped when no {@code kubectl} is on the PATH.
 */
class KubernetesManifestsTest {
  private static final ObjectMapper MODEL =
      new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true);
  private static final String NAMESPACE = "webhooks";
  /** The production Kafka's CA: a Secret the operator creates, read by the dispatcher and by KEDA. */
  private static final String KAFKA_CA_SECRET = "webhook-dispatcher-kafka-ca";

  private static List<JsonNode> production;
  private static List<JsonNode> keda;

  @BeforeAll
  static void render() throws Exception {
    Optional<Path> kubectl = Stream.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
        .map(dir -> Path.of(dir, "kubectl")).filter(Files::isExecutable).findFirst();
    Assumptions.assumeTrue(kubectl.isPresent(), "no kubectl on the PATH to render k8s/ with");
    production = kustomize(kubectl.get(), "k8s/overlays/production");
    keda = kustomize(kubectl.get(), "k8s/overlays/production-keda");
  }

  @Test
  void productionHasEveryObjectOperatorsNeedAndNoSecretValues() {
    assertThat(production).extracting(o -> o.get("kind").asText()).containsExactlyInAnyOrder(
        "Namespace", "ConfigMap", "Service", "Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget",
        "NetworkPolicy", "ServiceMonitor", "PrometheusRule");
    for (JsonNode object : production) {
      HasMetadata parsed = parse(object);
      if (!(parsed instanceof Namespace)) {
        assertThat(parsed.getMetadata().getNamespace()).as(parsed.getKind()).isEqualTo(NAMESPACE);
      }
    }
    assertThat(one(production, Namespace.class).getMetadata().getLabels())
        .containsEntry("pod-security.kubernetes.io/enforce", "restricted");
  }

  @Test
  void theDeploymentIsProbedOnTheManagementPortAndRunsLocked() {
    Deployment deployment = one(production, Deployment.class);
    Map<String, String> config = config(production);
    PodSpec pod = deployment.getSpec().getTemplate().getSpec();
    Container container = pod.getContainers().get(0);

    int management = Integer.parseInt(config.get("MANAGEMENT_PORT"));
    assertThat(portOf(container, container.getReadinessProbe())).isEqualTo(management);
    assertThat(portOf(container, container.getLivenessProbe())).isEqualTo(management);
    assertThat(portOf(container, container.getStartupProbe())).isEqualTo(management);
    assertThat(container.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/health/ready");
    assertThat(container.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/health/live");
    assertThat(container.getPorts()).extracting(ContainerPort::getContainerPort)
        .contains(management, Integer.parseInt(config.get("HTTP_PORT")));

    assertThat(container.getResources().getRequests()).containsKeys("cpu", "memory");
    assertThat(container.getResources().getLimits()).containsKeys("cpu", "memory");

    assertThat(pod.getEnableServiceLinks()).as("no KAFKA_CLIENT_* from a Service named kafka-client").isFalse();
    assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(pod.getSecurityContext().getRunAsUser()).isPositive();
    assertThat(container.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(container.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
    assertThat(container.getSecurityContext().getCapabilities().getDrop()).contains("ALL");
    assertThat(container.getVolumeMounts()).anySatisfy(m -> assertThat(m.getMountPath()).isEqualTo("/tmp"));
    assertThat(container.getImage()).contains(":").doesNotEndWith(":latest");

    long drainSeconds = Long.parseLong(config.get("SHUTDOWN_GRACE_MS")) / 1000;
    // with Kafka not answering, closing after the drain takes up to 37 s: the final commit 5, the consumer 5, the
    // outbox's sends and producer 10 + 10, the installations' consumer 5, the probe 2
    assertThat(pod.getTerminationGracePeriodSeconds()).as("SIGKILL must come after the drain and the closing")
        .isGreaterThanOrEqualTo(drainSeconds + 37);
  }

  @Test
  void secretsAreReferencedAndConfigurationComesFromTheRenderedConfigMap() {
    Deployment deployment = one(production, Deployment.class);
    Container container = deployment.getSpec().getTemplate().getSpec().getContainers().get(0);
    for (String name : List.of("ADMIN_TOKEN", "SECRETS_KEY")) {
      EnvVar variable = container.getEnv().stream().filter(e -> e.getName().equals(name)).findFirst().orElseThrow();
      assertThat(variable.getValue()).as(name).isNull();
      assertThat(variable.getValueFrom().getSecretKeyRef().getKey()).isEqualTo(name);
    }
    assertThat(production).noneMatch(o -> o.get("kind").asText().equals("Secret"));
    String configMap = one(production, ConfigMap.class).getMetadata().getName();
    assertThat(container.getEnvFrom()).extracting(e -> e.getConfigMapRef().getName()).containsExactly(configMap);
    assertThat(config(production)).doesNotContainKeys("ADMIN_TOKEN", "SECRETS_KEY")
        .containsEntry("LOG_FORMAT", "json");
  }

  /**
   * Production's Kafka listens with TLS on 9093: the rendered configuration must pass the service's own checks, make
   * every client speak TLS and point the truststore at a CA mounted from a Secret, which the operator provides.
   */
  @Test
  void everyKafkaClientSpeaksTlsTrustingACaMountedFromASecret() {
    Config config = Config.fromEnv(config(production));
    assertThat(config.kafkaClientSettings()).containsEntry("security.protocol", "SSL")
        .containsEntry("ssl.truststore.type", "PEM");
    Path truststore = Path.of(config.kafkaClientSettings().get("ssl.truststore.location"));

    PodSpec pod = one(production, Deployment.class).getSpec().getTemplate().getSpec();
    VolumeMount mount = pod.getContainers().get(0).getVolumeMounts().stream()
        .filter(m -> truststore.startsWith(m.getMountPath())).findFirst().orElseThrow();
    assertThat(mount.getReadOnly()).isTrue();
    SecretVolumeSource secret = pod.getVolumes().stream().filter(v -> v.getName().equals(mount.getName()))
        .findFirst().orElseThrow().getSecret();
    assertThat(secret.getSecretName()).isEqualTo(KAFKA_CA_SECRET);
    assertThat(secret.getItems()).anySatisfy(item -> assertThat(Path.of(mount.getMountPath(), item.getPath()))
        .isEqualTo(truststore));
  }

  @Test
  void theServiceBudgetAndAutoscalerPointAtTheDeployment() {
    Deployment deployment = one(production, Deployment.class);
    Map<String, String> podLabels = deployment.getSpec().getTemplate().getMetadata().getLabels();
    assertThat(podLabels).containsAllEntriesOf(deployment.getSpec().getSelector().getMatchLabels());

    Service service = one(production, Service.class);
    assertThat(podLabels).containsAllEntriesOf(service.getSpec().getSelector());
    assertThat(service.getSpec().getPorts()).extracting(p -> p.getName()).contains("http", "management");

    PodDisruptionBudget budget = one(production, PodDisruptionBudget.class);
    assertThat(podLabels).containsAllEntriesOf(budget.getSpec().getSelector().getMatchLabels());
    assertThat(budget.getSpec().getMaxUnavailable().getIntVal()).isEqualTo(1);

    HorizontalPodAutoscaler hpa = one(production, HorizontalPodAutoscaler.class);
    assertThat(hpa.getSpec().getScaleTargetRef().getKind()).isEqualTo("Deployment");
    assertThat(hpa.getSpec().getScaleTargetRef().getName()).isEqualTo(deployment.getMetadata().getName());
    assertThat(hpa.getSpec().getMinReplicas()).isGreaterThanOrEqualTo(2)
        .isLessThanOrEqualTo(deployment.getSpec().getReplicas());
    assertThat(hpa.getSpec().getMaxReplicas()).as("replicas beyond the partitions would sit idle")
        .isLessThanOrEqualTo(Integer.parseInt(config(production).get("TOPIC_PARTITIONS")));
  }

  @Test
  void egressIsOnlyDnsKafkaAndPublicHttps() {
    NetworkPolicy policy = one(production, NetworkPolicy.class);
    Deployment deployment = one(production, Deployment.class);
    assertThat(deployment.getSpec().getTemplate().getMetadata().getLabels())
        .containsAllEntriesOf(policy.getSpec().getPodSelector().getMatchLabels());
    assertThat(policy.getSpec().getPolicyTypes()).contains("Ingress", "Egress");

    List<NetworkPolicyEgressRule> egress = policy.getSpec().getEgress();
    assertThat(egress).allSatisfy(rule -> {
      assertThat(rule.getTo()).as("a rule without peers allows everything").isNotEmpty();
      assertThat(rule.getPorts()).as("a rule without ports allows every port").isNotEmpty();
    });
    int kafkaPort = Integer.parseInt(config(production).get("KAFKA_BOOTSTRAP_SERVERS").replaceAll(".*:", ""));
    assertThat(egress).anySatisfy(rule -> assertThat(rule.getPorts()).allSatisfy(p -> assertThat(p.getPort().getIntVal())
        .isEqualTo(53)));
    assertThat(egress).anySatisfy(rule -> assertThat(rule.getPorts()).extracting(p -> p.getPort().getIntVal())
        .containsExactly(kafkaPort));

    List<IPBlock> blocks = new ArrayList<>();
    for (NetworkPolicyEgressRule rule : egress) {
      List<IPBlock> ruleBlocks = rule.getTo().stream().map(NetworkPolicyPeer::getIpBlock).filter(b -> b != null).toList();
      if (!ruleBlocks.isEmpty()) {
        assertThat(rule.getPorts()).as("address ranges are for HTTPS only")
            .extracting(p -> p.getPort().getIntVal()).containsExactly(443);
        blocks.addAll(ruleBlocks);
      } else {
        assertThat(rule.getTo()).as("cluster peers are selected by namespace or pod, never by range")
            .allSatisfy(peer -> assertThat(peer.getNamespaceSelector()).isNotNull());
      }
    }
    IPBlock v4 = blocks.stream().filter(b -> b.getCidr().equals("0.0.0.0/0")).findFirst().orElseThrow();
    assertThat(v4.getExcept()).contains(
        "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16", "127.0.0.0/8");
    IPBlock v6 = blocks.stream().filter(b -> b.getCidr().equals("::/0")).findFirst().orElseThrow();
    assertThat(v6.getExcept()).contains("fc00::/7", "fe80::/10", "::1/128", "::ffff:0:0/96");
  }

  @Test
  void prometheusScrapesTheManagementPortAndHasTheSameRulesAsDeploy() throws IOException {
    Service service = one(production, Service.class);
    GenericKubernetesResource monitor = generic(production, "ServiceMonitor");
    JsonNode spec = MODEL.valueToTree(monitor.getAdditionalProperties().get("spec"));
    assertThat(service.getMetadata().getLabels()).containsAllEntriesOf(
        MODEL.convertValue(spec.get("selector").get("matchLabels"), Map.class));
    assertThat(spec.get("endpoints").get(0).get("port").asText()).isEqualTo("management");
    assertThat(spec.get("endpoints").get(0).get("path").asText()).isEqualTo("/metrics");

    GenericKubernetesResource rule = generic(production, "PrometheusRule");
    JsonNode groups = MODEL.valueToTree(rule.getAdditionalProperties().get("spec")).get("groups");
    JsonNode deployGroups = new YAMLMapper().readTree(Path.of("deploy", "prometheus", "alerts.yml").toFile()).get("groups");
    assertThat(groups).isEqualTo(deployGroups);
  }

  @Test
  void theKedaVariantScalesOnTheDispatchersOwnLagInsteadOfCpu() {
    assertThat(keda).noneMatch(o -> o.get("kind").asText().equals("HorizontalPodAutoscaler"));
    GenericKubernetesResource scaled = generic(keda, "ScaledObject");
    assertThat(scaled.getMetadata().getNamespace()).isEqualTo(NAMESPACE);
    JsonNode spec = MODEL.valueToTree(scaled.getAdditionalProperties().get("spec"));
    Map<String, String> config = config(keda);
    assertThat(spec.get("scaleTargetRef").get("name").asText())
        .isEqualTo(one(keda, Deployment.class).getMetadata().getName());
    assertThat(spec.get("maxReplicaCount").asInt()).isLessThanOrEqualTo(Integer.parseInt(config.get("TOPIC_PARTITIONS")));
    JsonNode trigger = spec.get("triggers").get(0);
    assertThat(trigger.get("type").asText()).isEqualTo("kafka");
    assertThat(trigger.get("metadata").get("consumerGroup").asText()).isEqualTo(config.get("CONSUMER_GROUP"));
    assertThat(trigger.get("metadata").get("topic").asText()).isEqualTo(config.get("EVENTS_TOPICS"));
    assertThat(trigger.get("metadata").get("bootstrapServers").asText()).isEqualTo(config.get("KAFKA_BOOTSTRAP_SERVERS"));
  }

  @Test
  void kedaReadsTheLagOverTlsTrustingTheDispatchersKafkaCa() {
    JsonNode trigger = MODEL.valueToTree(generic(keda, "ScaledObject").getAdditionalProperties().get("spec"))
        .get("triggers").get(0);
    assertThat(config(keda)).containsEntry("KAFKA_CLIENT_SECURITY_PROTOCOL", "SSL");
    assertThat(trigger.get("metadata").get("tls").asText()).isEqualTo("enable");

    GenericKubernetesResource authentication = generic(keda, "TriggerAuthentication");
    assertThat(authentication.getMetadata().getName()).isEqualTo(trigger.get("authenticationRef").get("name").asText());
    assertThat(authentication.getMetadata().getNamespace()).isEqualTo(NAMESPACE);
    JsonNode secrets = MODEL.valueToTree(authentication.getAdditionalProperties().get("spec")).get("secretTargetRef");
    assertThat(secrets).anySatisfy(secret -> {
      assertThat(secret.get("parameter").asText()).isEqualTo("ca");
      assertThat(secret.get("name").asText()).isEqualTo(KAFKA_CA_SECRET);
      assertThat(secret.get("key").asText()).isEqualTo("ca.crt");
    });
  }

  private static List<JsonNode> kustomize(Path kubectl, String dir) throws Exception {
    Process process = new ProcessBuilder(kubectl.toString(), "kustomize", dir).redirectErrorStream(false).start();
    byte[] out = process.getInputStream().readAllBytes();
    String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).as("kubectl kustomize " + dir + ": " + err).isZero();
    List<JsonNode> objects = new ArrayList<>();
    try (var values = new YAMLMapper().readerFor(JsonNode.class).readValues(out)) {
      while (values.hasNext()) {
        JsonNode node = (JsonNode) values.next();
        if (node != null && !node.isNull() && !node.isEmpty()) {
          objects.add(node);
        }
      }
    }
    return objects;
  }

  /** Reads an object into its fabric8 model class; unknown fields fail, so a typo in a field name is caught. */
  private static HasMetadata parse(JsonNode object) {
    Class<? extends HasMetadata> type = switch (object.get("kind").asText()) {
      case "Namespace" -> Namespace.class;
      case "ConfigMap" -> ConfigMap.class;
      case "Service" -> Service.class;
      case "Deployment" -> Deployment.class;
      case "HorizontalPodAutoscaler" -> HorizontalPodAutoscaler.class;
      case "PodDisruptionBudget" -> PodDisruptionBudget.class;
      case "NetworkPolicy" -> NetworkPolicy.class;
      default -> GenericKubernetesResource.class;
    };
    return MODEL.convertValue(object, type);
  }

  private static <T extends HasMetadata> T one(List<JsonNode> objects, Class<T> type) {
    List<T> found = objects.stream().map(KubernetesManifestsTest::parse).filter(type::isInstance).map(type::cast).toList();
    assertThat(found).as(type.getSimpleName()).hasSize(1);
    return found.get(0);
  }

  private static GenericKubernetesResource generic(List<JsonNode> objects, String kind) {
    List<GenericKubernetesResource> found = objects.stream().filter(o -> o.get("kind").asText().equals(kind))
        .map(o -> MODEL.convertValue(o, GenericKubernetesResource.class)).toList();
    assertThat(found).as(kind).hasSize(1);
    return found.get(0);
  }

  private static Map<String, String> config(List<JsonNode> objects) {
    return one(objects, ConfigMap.class).getData();
  }

  /** The container port a probe reaches, resolving a named port. */
  private static int portOf(Container container, Probe probe) {
    IntOrString port = probe.getHttpGet().getPort();
    if (port.getIntVal() != null) {
      return port.getIntVal();
    }
    return container.getPorts().stream().filter(p -> p.getName().equals(port.getStrVal())).findFirst()
        .orElseThrow().getContainerPort();
  }
}
