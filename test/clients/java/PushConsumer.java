import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
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
 * <p>It remembers where it stopped: the highest {@code seq} received (or the
 * welcome's {@code last_seq} when no replay follows) and the {@code epoch}. When
 * the connection drops it reconnects with backoff, sending them as the
 * {@code last_seq} and {@code epoch} headers, and the gateway replays what it
 * missed; what the welcome said of that goes to stderr.
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
 *       0 or absent: run until the server closes the connection for good</li>
 * </ol>
 * {@code PUSH_TIMEOUT_SECONDS} (default 60) bounds the wait for those entities.
 *
 * <p>Exit status: 0 when the expected entities arrived (or an operator closed
 * the connection), 1 on timeout, 2 on bad usage, 3 when registration failed, 4
 * when the connection was refused or closed in a way a reconnect cannot mend
 * (a wrong token, a deleted client, a rule broken).
 */
public final class PushConsumer {

    private static final Pattern TOKEN_FIELD = Pattern.compile("\"token\"\\s*:\\s*\"([^\"\\\\]+)\"");
    private static final Pattern ENTITY_FRAME = Pattern.compile("^\\s*\\{\\s*\"type\"\\s*:\\s*\"entity\"");
    private static final Pattern WELCOME_FRAME = Pattern.compile("^\\s*\\{\\s*\"type\"\\s*:\\s*\"welcome\"");
    /** The gateway writes these fields before {@code data}: the first match is the frame's own. */
    private static final Pattern SEQ_FIELD = Pattern.compile("\"seq\":(\\d+)");
    private static final Pattern LAST_SEQ_FIELD = Pattern.compile("\"last_seq\":(\\d+)");
    private static final Pattern EPOCH_FIELD = Pattern.compile("\"epoch\":\"([A-Za-z0-9-]+)\"");
    private static final Pattern RECOVERED_FIELD = Pattern.compile("\"recovered\":(true|false)");
    private static final Pattern MISSED_FIELD = Pattern.compile("\"missed\":(\\d+)");
    private static final Pattern REASON_FIELD = Pattern.compile("\"reason\":\"(\\w+)\"");
    /** Closes after which reconnecting does not help: an operator closed it (1000), the client was deleted or broke a rule. */
    private static final Set<Integer> FINAL_CLOSES = Set.of(1000, 1008, 1009);
    /** Handshake refusals that pass: the previous connection not released yet, a rate limit, a moment of unavailability. */
    private static final Set<Integer> PASSING_REFUSALS = Set.of(409, 429, 503);

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

        URI wsUri = URI.create(baseUrl.replaceFirst("^http", "ws") + "/ws/publish");
        Position position = new Position();
        AtomicInteger entities = new AtomicInteger();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        int failures = 0;
        while (true) {
            FrameListener listener = new FrameListener(expected, entities, position);
            WebSocket.Builder builder = http.newWebSocketBuilder()
                    .header("client_id", clientId)
                    .header("Authorization", "Bearer " + token)
                    .connectTimeout(Duration.ofSeconds(10));
            if (position.lastSeq >= 0) {
                // where it stopped: the gateway replays what this consumer missed since
                builder.header("last_seq", Long.toString(position.lastSeq)).header("epoch", position.epoch);
            }
            WebSocket socket = null;
            boolean retryAtOnce = false;
            try {
                socket = builder.buildAsync(wsUri, listener).join();
            } catch (CompletionException e) {
                Throwable cause = rootCause(e);
                int status = handshakeStatus(e);
                if (status != 0 && !PASSING_REFUSALS.contains(status)) {
                    System.err.println("could not connect to " + wsUri + ": refused with HTTP " + status);
                    System.exit(4);
                }
                System.err.println("could not connect to " + wsUri + ": " + (status != 0 ? "HTTP " + status : cause.getMessage()));
            }
            if (socket != null) {
                long left = deadline - System.nanoTime();
                boolean finished = expected > 0 ? listener.done.await(Math.max(0, left), TimeUnit.NANOSECONDS) : awaitForever(listener.done);
                if (!finished) {
                    System.err.printf("timed out after %d s with %d of %d entities%n", timeoutSeconds, entities.get(), expected);
                    socket.abort();
                    System.exit(1);
                }
                if (expected > 0 && entities.get() >= expected) {
                    if (!socket.isOutputClosed()) {
                        socket.sendClose(WebSocket.NORMAL_CLOSURE, "done").orTimeout(2, TimeUnit.SECONDS).exceptionally(e -> null).join();
                    }
                    System.exit(0);
                }
                System.err.println("connection lost: " + listener.failure);
                if (FINAL_CLOSES.contains(listener.closeCode)) {
                    System.exit(listener.closeCode == WebSocket.NORMAL_CLOSURE && expected == 0 ? 0 : 4);
                }
                if (listener.welcomed) {
                    failures = 0;
                }
                // 1012: the instance is stopping, and another one takes over at once
                retryAtOnce = listener.closeCode == 1012;
            }
            long delayMillis = retryAtOnce ? 0 : (long) (Math.min(30_000, 1_000L << Math.min(failures++, 5)) * (0.5 + Math.random() / 2));
            if (expected > 0 && System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(delayMillis) > deadline) {
                System.err.printf("timed out after %d s with %d of %d entities%n", timeoutSeconds, entities.get(), expected);
                System.exit(1);
            }
            Thread.sleep(delayMillis);
        }
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

    /** Where this consumer stopped: the seq to reconnect after (-1: nowhere yet), and the history it belongs to. */
    private static final class Position {
        volatile long lastSeq = -1;
        volatile String epoch;
    }

    /** Prints each complete text message, and keeps the position; the JDK may hand a message over in several parts. */
    private static final class FrameListener implements WebSocket.Listener {
        final CountDownLatch done = new CountDownLatch(1);
        private final int expected;
        private final AtomicInteger entities;
        private final Position position;
        private final StringBuilder message = new StringBuilder();
        volatile boolean welcomed;
        volatile int closeCode = -1;
        volatile String failure;

        FrameListener(int expected, AtomicInteger entities, Position position) {
            this.expected = expected;
            this.entities = entities;
            this.position = position;
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
                if (ENTITY_FRAME.matcher(frame).find()) {
                    position.lastSeq = Math.max(position.lastSeq, field(SEQ_FIELD, frame, 0L));
                    if (entities.incrementAndGet() == expected) {
                        done.countDown();
                    }
                } else if (WELCOME_FRAME.matcher(frame).find()) {
                    welcome(frame);
                }
            }
            webSocket.request(1);
            return null;
        }

        /** Says what the welcome said of a recovery, and takes its position. */
        private void welcome(String frame) {
            welcomed = true;
            Matcher epoch = EPOCH_FIELD.matcher(frame);
            position.epoch = epoch.find() ? epoch.group(1) : null;
            Matcher recovered = RECOVERED_FIELD.matcher(frame);
            // absent: this connection did not ask to recover
            String outcome = recovered.find() ? recovered.group(1) : null;
            boolean replayFollows = "true".equals(outcome);
            if (replayFollows) {
                System.err.println("recovered; missed: " + field(MISSED_FIELD, frame, 0L) + ", replayed next");
            } else if ("false".equals(outcome)) {
                Matcher reason = REASON_FIELD.matcher(frame);
                System.err.println("not recovered (" + (reason.find() ? reason.group(1) : "?") + "): resynchronise from the source of truth");
            }
            // with a replay following, the missed entities bring the position up to date themselves
            if (!replayFollows) {
                position.lastSeq = Math.max(position.lastSeq, field(LAST_SEQ_FIELD, frame, 0L));
            }
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            closeCode = statusCode;
            failure = "closed by the server with " + statusCode + (reason.isEmpty() ? "" : " " + reason);
            done.countDown();
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            failure = String.valueOf(rootCause(error).getMessage());
            done.countDown();
        }
    }

    private static long field(Pattern pattern, String frame, long otherwise) {
        Matcher matcher = pattern.matcher(frame);
        return matcher.find() ? Long.parseLong(matcher.group(1)) : otherwise;
    }

    private static String argument(String[] args, int index, String variable) {
        String value = args.length > index ? args[index] : System.getenv(variable);
        return value == null || value.isBlank() ? null : value;
    }

    private static boolean awaitForever(CountDownLatch latch) throws InterruptedException {
        latch.await();
        return true;
    }

    /** The HTTP status of a refused handshake, or 0 when the connection failed otherwise. */
    private static int handshakeStatus(Throwable error) {
        for (Throwable cause = error; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
            if (cause instanceof WebSocketHandshakeException refused) {
                return refused.getResponse().statusCode();
            }
        }
        return 0;
    }

    private static Throwable rootCause(Throwable error) {
        Throwable cause = error;
        while (cause.getCause() != null && cause.getCause() != cause) {
            cause = cause.getCause();
        }
        return cause;
    }
}
