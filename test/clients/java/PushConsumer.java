import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A push-gateway consumer that needs nothing but the JDK (17 or later).
 *
 * <p>It registers with the client credentials an administrator issued
 * ({@code POST /consumers}), opens {@code /ws/publish} with the token it got
 * back, and prints every text frame it receives, one per line, on stdout: first
 * the {@code welcome} frame, then one {@code entity} frame per published entity.
 *
 * <pre>
 * javac -d out PushConsumer.java
 * java -cp out PushConsumer http://127.0.0.1:3000 acme "$CLIENT_SECRET" 10
 * </pre>
 *
 * <p>Arguments, each of which may instead come from an environment variable:
 * <ol>
 *   <li>base URL ({@code PUSH_BASE_URL}), {@code http://} or {@code https://}</li>
 *   <li>client id ({@code PUSH_CLIENT_ID})</li>
 *   <li>client secret ({@code PUSH_CLIENT_SECRET})</li>
 *   <li>how many entities to receive before exiting ({@code PUSH_EXPECTED_ENTITIES});
 *       0 or absent: run until the server closes the connection</li>
 * </ol>
 * {@code PUSH_TIMEOUT_SECONDS} (default 60) bounds the wait for those entities.
 *
 * <p>Exit status: 0 when the expected entities arrived (or the server closed
 * normally), 1 on timeout, 2 on bad usage, 3 when registration failed, 4 when
 * the connection failed or closed before the expected entities arrived.
 */
public final class PushConsumer {

    private static final Pattern TOKEN_FIELD = Pattern.compile("\"token\"\\s*:\\s*\"([^\"\\\\]+)\"");
    private static final Pattern ENTITY_FRAME = Pattern.compile("^\\s*\\{\\s*\"type\"\\s*:\\s*\"entity\"");

    private PushConsumer() {
    }

    public static void main(String[] args) throws InterruptedException {
        String baseUrl = argument(args, 0, "PUSH_BASE_URL");
        String clientId = argument(args, 1, "PUSH_CLIENT_ID");
        String clientSecret = argument(args, 2, "PUSH_CLIENT_SECRET");
        String expectedText = argument(args, 3, "PUSH_EXPECTED_ENTITIES");
        String timeoutText = System.getenv("PUSH_TIMEOUT_SECONDS");
        if (baseUrl == null || clientId == null || clientSecret == null) {
            System.err.println("usage: java PushConsumer <base-url> <client-id> <client-secret> [expected-entities]");
            System.exit(2);
        }
        int expected;
        long timeoutSeconds;
        try {
            expected = expectedText == null ? 0 : Integer.parseInt(expectedText);
            timeoutSeconds = timeoutText == null ? 60 : Long.parseLong(timeoutText);
        } catch (NumberFormatException e) {
            System.err.println("expected-entities and PUSH_TIMEOUT_SECONDS must be whole numbers");
            System.exit(2);
            return;
        }
        baseUrl = baseUrl.replaceAll("/+$", "");

        // The gateway speaks HTTP/1.1; asking for it up front spares an h2c upgrade attempt on http://.
        HttpClient http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10))
                .build();

        String token;
        try {
            token = register(http, baseUrl, clientId, clientSecret);
        } catch (IOException | IllegalStateException e) {
            System.err.println("registration failed: " + e.getMessage());
            System.exit(3);
            return;
        }

        FrameListener listener = new FrameListener(expected);
        URI wsUri = URI.create(baseUrl.replaceFirst("^http", "ws") + "/ws/publish");
        WebSocket socket;
        try {
            socket = http.newWebSocketBuilder()
                    .header("client_id", clientId)
                    .header("Authorization", "Bearer " + token)
                    .connectTimeout(Duration.ofSeconds(10))
                    .buildAsync(wsUri, listener)
                    .join();
        } catch (RuntimeException e) {
            System.err.println("could not connect to " + wsUri + ": " + rootCause(e).getMessage());
            System.exit(4);
            return;
        }

        boolean finished = expected > 0
                ? listener.done.await(timeoutSeconds, TimeUnit.SECONDS)
                : awaitForever(listener.done);
        if (!finished) {
            System.err.printf("timed out after %d s with %d of %d entities%n", timeoutSeconds, listener.entities.get(), expected);
            socket.abort();
            System.exit(1);
        }
        if (listener.failure != null) {
            System.err.println("connection lost: " + listener.failure);
            System.exit(4);
        }
        if (!socket.isOutputClosed()) {
            socket.sendClose(WebSocket.NORMAL_CLOSURE, "done").orTimeout(2, TimeUnit.SECONDS).exceptionally(e -> null).join();
        }
        System.exit(0);
    }

    /** Exchanges the client credentials for a consumer token. */
    private static String register(HttpClient http, String baseUrl, String clientId, String clientSecret) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create(baseUrl + "/consumers"))
                .header("client_id", clientId)
                .header("client_secret", clientSecret)
                .timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.noBody())
                .build();
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 201) {
            throw new IllegalStateException("HTTP " + response.statusCode() + " " + response.body());
        }
        Matcher token = TOKEN_FIELD.matcher(response.body());
        if (!token.find()) {
            throw new IllegalStateException("no token in " + response.body());
        }
        return token.group(1);
    }

    /** Prints each complete text message; the JDK may hand one over in several parts. */
    private static final class FrameListener implements WebSocket.Listener {
        final CountDownLatch done = new CountDownLatch(1);
        final AtomicInteger entities = new AtomicInteger();
        private final int expected;
        private final StringBuilder message = new StringBuilder();
        volatile String failure;

        FrameListener(int expected) {
            this.expected = expected;
        }

        @Override
        public void onOpen(WebSocket webSocket) {
            webSocket.request(1);
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            message.append(data);
            if (last) {
                String frame = message.toString();
                message.setLength(0);
                System.out.println(frame);
                if (ENTITY_FRAME.matcher(frame).find() && entities.incrementAndGet() == expected) {
                    done.countDown();
                }
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            if (statusCode != WebSocket.NORMAL_CLOSURE || entities.get() < expected) {
                failure = "closed by the server with " + statusCode + (reason.isEmpty() ? "" : " " + reason);
            }
            done.countDown();
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            failure = String.valueOf(rootCause(error).getMessage());
            done.countDown();
        }
    }

    private static String argument(String[] args, int index, String variable) {
        String value = args.length > index ? args[index] : System.getenv(variable);
        return value == null || value.isBlank() ? null : value;
    }

    private static boolean awaitForever(CountDownLatch latch) throws InterruptedException {
        latch.await();
        return true;
    }

    private static Throwable rootCause(Throwable error) {
        Throwable cause = error;
        while (cause.getCause() != null && cause.getCause() != cause) {
            cause = cause.getCause();
        }
        return cause;
    }
}
