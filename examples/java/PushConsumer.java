import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A push-gateway consumer on {@link PushGatewayClient}, with nothing but the JDK (17 or later).
 *
 * <p>It prints every text frame it receives, one per line, on stdout: first the {@code welcome} frame, then
 * one {@code entity} frame per published entity. What happens to the connection goes to stderr: each state
 * change ({@code state: registering}, {@code state: connecting}, {@code state: open}, {@code state: waiting},
 * {@code state: stopped}), each close ({@code connection lost: closed by the server with 4000 come back}),
 * each error, and what a welcome said of a recovery. The client reconnects by itself, saying where it
 * stopped, and the gateway replays what it missed.
 *
 * <pre>
 * javac -d out examples/java/*.java
 * java -cp out PushConsumer http://127.0.0.1:3000 acme "$CLIENT_SECRET" 10
 * </pre>
 *
 * <p>Arguments, each of which may instead come from an environment variable:
 * <ol>
 *   <li>base URL ({@code PUSH_BASE_URL}), {@code http://} or {@code https://}</li>
 *   <li>client id ({@code PUSH_CLIENT_ID})</li>
 *   <li>client secret ({@code PUSH_CLIENT_SECRET})</li>
 *   <li>how many entities to receive before exiting ({@code PUSH_EXPECTED_ENTITIES});
 *       0 or absent: run until the gateway stops the client for good</li>
 * </ol>
 * Optional variables: {@code PUSH_TIMEOUT_SECONDS} (default 60) bounds the wait for those entities;
 * {@code PUSH_GROUPS} (comma-separated) the groups to join; {@code PUSH_RECONNECT_INITIAL_MS} (default 1000),
 * {@code PUSH_RECONNECT_MAX_MS} (default 30000) and {@code PUSH_RECONNECT_JITTER} (default true) the backoff.
 *
 * <p>Exit status: 0 when the expected entities arrived (or an operator closed the connection), 1 on
 * timeout, 2 on bad usage, 3 when registration failed, 4 when the connection was refused or closed in a
 * way a reconnect cannot mend (a group not granted, a deleted client, a rule broken).
 */
public final class PushConsumer {

    private PushConsumer() {
    }

    public static void main(String[] args) throws InterruptedException {
        String baseUrl = argument(args, 0, "PUSH_BASE_URL");
        String clientId = argument(args, 1, "PUSH_CLIENT_ID");
        String clientSecret = argument(args, 2, "PUSH_CLIENT_SECRET");
        String expectedText = argument(args, 3, "PUSH_EXPECTED_ENTITIES");
        String groups = argument(new String[0], 0, "PUSH_GROUPS");
        if (baseUrl == null || clientId == null || clientSecret == null) {
            System.err.println("usage: java PushConsumer <base-url> <client-id> <client-secret> [expected-entities]");
            System.exit(2);
        }
        int expected;
        long timeoutSeconds;
        long initialMillis;
        long maxMillis;
        try {
            expected = expectedText == null ? 0 : Integer.parseInt(expectedText);
            timeoutSeconds = Long.parseLong(orElse(System.getenv("PUSH_TIMEOUT_SECONDS"), "60"));
            initialMillis = Long.parseLong(orElse(System.getenv("PUSH_RECONNECT_INITIAL_MS"), "1000"));
            maxMillis = Long.parseLong(orElse(System.getenv("PUSH_RECONNECT_MAX_MS"), "30000"));
        } catch (NumberFormatException e) {
            System.err.println("expected-entities, PUSH_TIMEOUT_SECONDS and PUSH_RECONNECT_*_MS must be whole numbers");
            System.exit(2);
            return;
        }
        boolean jitter = !"false".equals(System.getenv("PUSH_RECONNECT_JITTER"));

        AtomicInteger entities = new AtomicInteger();
        CountDownLatch enough = new CountDownLatch(1);
        PushGatewayClient.Builder builder = PushGatewayClient.builder(baseUrl, clientId, clientSecret)
                .reconnect(Duration.ofMillis(initialMillis), Duration.ofMillis(Math.max(initialMillis, maxMillis)), jitter)
                .onFrame(frame -> System.out.println(frame.text()))
                .onWelcome(PushConsumer::welcome)
                .onEntity(entity -> {
                    if (entities.incrementAndGet() == expected) {
                        enough.countDown();
                    }
                })
                .onError(error -> System.err.println(error.kind() == PushGatewayClient.ErrorKind.REFUSED
                        ? "could not connect: " + error.getMessage()
                        : "error (" + error.kind().name().toLowerCase() + "): " + error.getMessage()))
                .onClose(close -> System.err.println("connection lost: " + (close.code() == 1006 ? "no close frame (1006)" : "closed by the server with " + close)
                        + (close.reconnectInMillis() >= 0 ? "; reconnecting in " + close.reconnectInMillis() + " ms" : "")))
                .onStateChange(state -> System.err.println("state: " + state.name().toLowerCase()))
                .onStopped(stopped -> enough.countDown());
        if (groups != null) {
            builder.groups(List.copyOf(Arrays.asList(groups.split("\\s*,\\s*"))));
        }
        PushGatewayClient client = builder.build();
        client.start();

        boolean finished = expected > 0 ? enough.await(timeoutSeconds, TimeUnit.SECONDS) : awaitForever(enough);
        if (!finished) {
            System.err.printf("timed out after %d s with %d of %d entities%n", timeoutSeconds, entities.get(), expected);
            client.close();
            System.exit(1);
        }
        if (expected > 0 && entities.get() >= expected) {
            client.close();
            System.exit(0);
        }
        // stopped by the gateway
        PushGatewayClient.Stopped stopped = client.stopped().join();
        System.err.println("stopped: " + stopped);
        PushGatewayClient.PushGatewayException error = stopped.error();
        if (error != null && error.kind() == PushGatewayClient.ErrorKind.REGISTRATION) {
            System.err.println("registration failed: HTTP " + error.status() + (error.code() != null ? " " + error.code() : ""));
            System.exit(3);
        }
        System.exit(stopped.code() == 1000 && expected == 0 ? 0 : 4);
    }

    /** Says what the welcome said of a recovery. */
    private static void welcome(PushGatewayClient.Frame welcome) {
        Boolean recovered = welcome.recovered();
        if (Boolean.TRUE.equals(recovered)) {
            System.err.println("recovered; missed: " + welcome.missed() + ", replayed next");
        } else if (Boolean.FALSE.equals(recovered)) {
            System.err.println("not recovered (" + welcome.reason() + "): resynchronise from the source of truth");
        }
    }

    private static String argument(String[] args, int index, String variable) {
        String value = args.length > index ? args[index] : System.getenv(variable);
        return value == null || value.isBlank() ? null : value;
    }

    private static String orElse(String value, String otherwise) {
        return value == null || value.isBlank() ? otherwise : value;
    }

    private static boolean awaitForever(CountDownLatch latch) throws InterruptedException {
        latch.await();
        return true;
    }
}
