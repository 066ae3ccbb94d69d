import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * A push-gateway consumer that needs nothing but the JDK (17 or later): the Java counterpart of the
 * client SDK ({@code packages/client}), with the same behaviour.
 *
 * <p>It registers with the client's credentials ({@code POST /consumers}) for a token, opens
 * {@code /ws/publish} with the {@code client_id} and {@code Authorization: Bearer} headers, and hands
 * every frame to the callbacks: the welcome, then each entity in {@code seq} order. It stays connected:
 * <ul>
 *   <li>after a drop it reconnects with exponential backoff and full jitter (by default each delay is
 *       drawn between 0 and a bound that starts at 1 s and doubles to 30 s), at once after a {@code 1012}
 *       (the instance is stopping);</li>
 *   <li>it says where it stopped, the highest {@code seq} received and its {@code epoch}, as the
 *       {@code last_seq} and {@code epoch} headers, so that the gateway replays what it missed. After a
 *       welcome with {@code recovered: true} the replayed entities bring {@link #lastSeq()} up to date one
 *       by one; after any other welcome the welcome's {@code last_seq} is taken;</li>
 *   <li>when the gateway refuses its token ({@code 401}: rotated by a registration elsewhere, or expired) it
 *       registers again, once, and reconnects at once;</li>
 *   <li>it waits at least the {@code Retry-After} of a {@code 429} or {@code 503}, and backs off on a
 *       {@code 409} (another connection of the client is open);</li>
 *   <li>it stops for good, reporting why through {@link Builder#onStopped}, on what retrying cannot fix:
 *       a refusal {@code 400}, {@code 403}, {@code 404} or {@code 431}, a failed registration other than
 *       {@code 429} or {@code 5xx} (wrong credentials), a second {@code 401} in a row, and the close codes
 *       {@code 1000} (an operator closed it), {@code 1008} (the client was deleted, or broke a rule) and
 *       {@code 1009}.</li>
 * </ul>
 *
 * <pre>{@code
 * PushGatewayClient client = PushGatewayClient.builder("http://127.0.0.1:3000", "acme", secret)
 *         .onWelcome(welcome -> System.out.println("welcome, last_seq " + welcome.lastSeq()))
 *         .onEntity(entity -> System.out.println(entity.seq() + " " + entity.text()))
 *         .onError(error -> System.err.println(error.getMessage()))
 *         .build();
 * client.start();
 * PushGatewayClient.Stopped stopped = client.stopped().join();   // or client.close() when done
 * }</pre>
 *
 * <p>Thread safety: every callback runs on the client's own thread (a daemon thread), one at a time, in the
 * order the frames arrived; the next frame is not read before the callback of the previous one returns. The
 * public methods may be called from any thread, callbacks included.
 */
public final class PushGatewayClient implements AutoCloseable {

    /** Close codes after which reconnecting cannot help: an operator's 1000, a deleted client or broken rule (1008), a frame too big (1009). */
    private static final Set<Integer> STOP_CODES = Set.of(1000, 1008, 1009);
    /** Refusals that are a configuration or code error: fix them rather than retry. */
    private static final Set<Integer> STOP_STATUSES = Set.of(400, 403, 404, 431);
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    /** Where the client is. */
    public enum State {
        /** Built, {@link #start()} not called yet. */
        NEW,
        /** Exchanging the client's credentials for a token. */
        REGISTERING,
        /** Opening the WebSocket. */
        CONNECTING,
        /** The socket is open (the welcome is the first frame on it). */
        OPEN,
        /** Waiting before the next attempt. */
        WAITING,
        /** Stopped for good: see {@link #stopped()}. */
        STOPPED
    }

    /** What went wrong: a refused handshake, a failed registration, an error frame, or the network. */
    public enum ErrorKind {
        /** The gateway answered the upgrade with an HTTP status ({@link PushGatewayException#status()}). */
        REFUSED,
        /** {@code POST /consumers} failed. */
        REGISTRATION,
        /** An {@code error} frame: the gateway is about to close the socket ({@link PushGatewayException#code()}). */
        FRAME,
        /** A network error, a frame that is not JSON, or a callback that threw. */
        SOCKET
    }

    private final URI httpBase;
    private final URI publishUri;
    private final String clientId;
    private final String clientSecret;
    private final List<String> groups;
    private final long initialDelayMillis;
    private final long maxDelayMillis;
    private final boolean jitter;
    private final HttpClient http;
    private final Callbacks callbacks;
    private final ScheduledExecutorService loop;
    private final CompletableFuture<Stopped> stopped = new CompletableFuture<>();
    private final AtomicBoolean started = new AtomicBoolean();
    private volatile Thread loopThread;

    // Written on the client's thread only; volatile so that the accessors read them from any thread.
    private volatile long lastSeq;
    private volatile String epoch;
    private volatile String token;
    private volatile String socketId;
    private volatile State state = State.NEW;

    // The client's thread only.
    private int failures;
    private boolean renewed;
    private ScheduledFuture<?> timer;
    /** The current attempt; events of an earlier one are ignored. */
    private Attempt attempt;

    private PushGatewayClient(Builder builder) {
        String base = builder.baseUrl.replaceAll("/+$", "").replaceFirst("/ws/publish$", "");
        base = base.replaceFirst("^ws(s?)://", "http$1://");
        if (!base.startsWith("http://") && !base.startsWith("https://")) {
            throw new IllegalArgumentException("the base URL must be http(s):// or ws(s)://: " + builder.baseUrl);
        }
        this.httpBase = URI.create(base);
        this.publishUri = URI.create(base.replaceFirst("^http", "ws") + "/ws/publish");
        this.clientId = builder.clientId;
        this.clientSecret = builder.clientSecret;
        this.groups = builder.groups;
        this.token = builder.token;
        this.lastSeq = builder.lastSeq;
        this.epoch = builder.lastSeq < 0 ? null : builder.epoch;
        this.initialDelayMillis = builder.initialDelay.toMillis();
        this.maxDelayMillis = builder.maxDelay.toMillis();
        this.jitter = builder.jitter;
        this.callbacks = new Callbacks(builder);
        // The gateway speaks HTTP/1.1; asking for it up front spares an h2c upgrade attempt on http://.
        this.http = builder.httpClient != null ? builder.httpClient
                : HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(TIMEOUT).build();
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, runnable -> {
            Thread thread = new Thread(runnable, "push-gateway-client-" + clientId);
            thread.setDaemon(true);
            loopThread = thread;
            return thread;
        });
        executor.setRemoveOnCancelPolicy(true);
        executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        this.loop = executor;
    }

    /**
     * A builder for a client of the gateway at {@code baseUrl} ({@code http://127.0.0.1:3000}; a
     * {@code ws://} URL, or one ending in {@code /ws/publish}, is taken too).
     *
     * @param baseUrl the gateway
     * @param clientId the client id an operator created
     * @param clientSecret the client's secret: the client registers with it for a token, and again when the
     *        gateway refuses the token (registering rotates the token of every consumer of the client);
     *        {@code null} when a {@link Builder#token(String) token} is given and should not be renewed
     * @return a builder
     */
    public static Builder builder(String baseUrl, String clientId, String clientSecret) {
        return new Builder(baseUrl, clientId, clientSecret);
    }

    /**
     * Starts connecting (registering first when no token was given) and returns at once. What happens next
     * reaches the callbacks.
     *
     * @throws IllegalStateException when called more than once
     */
    public void start() {
        if (!started.compareAndSet(false, true)) {
            throw new IllegalStateException("start() may be called once");
        }
        post(this::connect);
    }

    /**
     * Closes the socket (code 1000) and stops reconnecting; waits up to five seconds for the socket to
     * close, unless called from a callback. {@link #stopped()} completes with {@link Stopped#byClient()}
     * true, unless the client had already stopped.
     */
    @Override
    public void close() {
        CompletableFuture<Void> closed = new CompletableFuture<>();
        boolean posted = post(() -> {
            if (attempt != null && !attempt.settled) {
                attempt.closed = closed;
                attempt.close();
            } else {
                closed.complete(null);
            }
            stop(new Stopped(true, 0, "", null));
        });
        if (posted && Thread.currentThread() != loopThread) {
            closed.completeOnTimeout(null, 6, TimeUnit.SECONDS).join();
        }
    }

    /**
     * The highest {@code seq} received, or the welcome's {@code last_seq} when no replay followed it; -1 before
     * any. Keep it, with {@link #epoch()}, to resume from it in a later run ({@link Builder#resumeFrom}).
     *
     * @return where this consumer stopped
     */
    public long lastSeq() {
        return lastSeq;
    }

    /**
     * The epoch (history) {@link #lastSeq()} belongs to; {@code null} before the first welcome.
     *
     * @return the epoch
     */
    public String epoch() {
        return epoch;
    }

    /**
     * The current token: the one given, or the latest registration's.
     *
     * @return the token, or {@code null} before the first registration
     */
    public String token() {
        return token;
    }

    /**
     * The open socket's id, from its welcome.
     *
     * @return the id, or {@code null} between connections
     */
    public String socketId() {
        return socketId;
    }

    /**
     * Where the client is now.
     *
     * @return the state
     */
    public State state() {
        return state;
    }

    /**
     * Completes once the client has stopped for good: after {@link #close()}, or a refusal or close code that
     * retrying cannot fix.
     *
     * @return why it stopped
     */
    public CompletableFuture<Stopped> stopped() {
        return stopped.copy();
    }

    // ---- the client's thread from here on ----

    /** One attempt: a token if needed, then a handshake. */
    private void connect() {
        timer = null;
        if (isStopped()) {
            return;
        }
        if (token == null) {
            renew();
            return;
        }
        setState(State.CONNECTING);
        Attempt current = new Attempt();
        attempt = current;
        WebSocket.Builder handshake = http.newWebSocketBuilder()
                .header("client_id", clientId)
                .header("Authorization", "Bearer " + token)
                .connectTimeout(TIMEOUT);
        if (!groups.isEmpty()) {
            handshake.header("groups", String.join(",", groups));
        }
        if (lastSeq >= 0) {
            // where it stopped: the gateway replays what this consumer missed since
            handshake.header("last_seq", Long.toString(lastSeq));
            if (epoch != null) {
                handshake.header("epoch", epoch);
            }
        }
        handshake.buildAsync(publishUri, new SocketListener(current)).whenComplete((socket, error) -> post(() -> {
            if (error == null) {
                current.socket = socket;
                if (current.settled || isStopped()) {
                    current.close();
                }
                return;
            }
            WebSocketHandshakeException refusal = handshakeRefusal(error);
            if (refusal != null) {
                HttpResponse<?> response = refusal.getResponse();
                if (current.settle()) {
                    refused(response.statusCode(), response.headers().firstValue("retry-after").orElse(null));
                }
            } else {
                if (current.settle() && !isStopped()) {
                    report(new PushGatewayException(ErrorKind.SOCKET, "could not connect to " + publishUri + ": " + rootCause(error), 0, null, -1));
                    closed(1006, "");
                }
            }
        }));
    }

    private void frame(String text) {
        Frame frame;
        try {
            frame = new Frame(text);
        } catch (IllegalArgumentException e) {
            report(new PushGatewayException(ErrorKind.SOCKET, "a frame that is not JSON: " + text.substring(0, Math.min(100, text.length())), 0, null, -1));
            return;
        }
        call(callbacks.onFrame, frame);
        switch (frame.type()) {
            case "welcome":
                welcome(frame);
                break;
            case "entity":
                call(callbacks.onEntity, frame);
                if (frame.seq() > lastSeq) {
                    lastSeq = frame.seq();
                }
                break;
            case "message":
                call(callbacks.onMessage, frame);
                break;
            case "error":
                report(new PushGatewayException(ErrorKind.FRAME, frame.string("message"), 0, frame.string("code"), -1));
                break;
            default:
                break;
        }
    }

    private void welcome(Frame frame) {
        failures = 0;
        renewed = false;
        socketId = frame.string("socket_id");
        // recovered: true: the missed entities follow and bring lastSeq up to date, one by one, so that a connection
        // lost mid-replay resumes from the last one received. Otherwise everything above last_seq comes live.
        if (!Boolean.TRUE.equals(frame.recovered())) {
            boolean sameHistory = epoch == null || epoch.equals(frame.epoch());
            lastSeq = Boolean.FALSE.equals(frame.recovered()) || !sameHistory || lastSeq < 0
                    ? frame.lastSeq() : Math.max(lastSeq, frame.lastSeq());
        }
        epoch = frame.epoch();
        call(callbacks.onWelcome, frame);
    }

    private void closed(int code, String reason) {
        socketId = null;
        if (isStopped()) {
            return;
        }
        if (STOP_CODES.contains(code)) {
            call(callbacks.onClose, new CloseInfo(code, reason, -1));
            stop(new Stopped(false, code, reason, null));
            return;
        }
        // 1012: the instance is stopping and has released the claim: at once (the first time); anything else backs off
        long delay;
        if (code == 1012 && failures == 0) {
            failures++;
            delay = 0;
        } else {
            delay = backoff();
        }
        call(callbacks.onClose, new CloseInfo(code, reason, delay));
        schedule(delay);
    }

    private void refused(int status, String retryAfterHeader) {
        if (isStopped()) {
            return;
        }
        long retryAfter = retryAfter(retryAfterHeader);
        PushGatewayException error = new PushGatewayException(ErrorKind.REFUSED,
                "refused with HTTP " + status + (retryAfter >= 0 ? " (Retry-After: " + retryAfter + " s)" : ""), status, null, retryAfter);
        report(error);
        if (status == 401) {
            // the token was rotated or expired: a new one, once, then at once
            if (clientSecret == null || renewed) {
                stop(new Stopped(false, 0, "", error));
                return;
            }
            renewed = true;
            token = null;
            schedule(0);
        } else if (STOP_STATUSES.contains(status)) {
            stop(new Stopped(false, 0, "", error));
        } else {
            // 409 (the previous connection is not released yet), 429, 503, 5xx: later
            schedule(Math.max(backoff(), retryAfter * 1_000));
        }
    }

    /** Registers for a new token, then connects; on failure arranges what comes next. */
    private void renew() {
        if (clientSecret == null) {
            stop(new Stopped(false, 0, "", new PushGatewayException(ErrorKind.REGISTRATION, "no token, and no client secret to register with", 0, null, -1)));
            return;
        }
        setState(State.REGISTERING);
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(httpBase + "/consumers"))
                .header("client_id", clientId)
                .header("client_secret", clientSecret)
                .timeout(TIMEOUT);
        request.POST(HttpRequest.BodyPublishers.noBody());
        http.sendAsync(request.build(), HttpResponse.BodyHandlers.ofString()).whenComplete((response, error) -> post(() -> {
            if (isStopped()) {
                return;
            }
            PushGatewayException failure;
            if (error != null) {
                failure = new PushGatewayException(ErrorKind.REGISTRATION, "registration failed: " + rootCause(error), 0, null, -1);
            } else {
                String newToken = null;
                String code = null;
                String message = response.body();
                try {
                    Object answer = Json.parse(response.body());
                    if (answer instanceof Map<?, ?> fields) {
                        newToken = fields.get("token") instanceof String value ? value : null;
                        code = fields.get("error") instanceof String value ? value : null;
                        message = fields.get("message") instanceof String value ? value : message;
                    }
                } catch (IllegalArgumentException notJson) {
                    // the status says enough
                }
                if (response.statusCode() == 201 && newToken != null) {
                    token = newToken;
                    connect();
                    return;
                }
                failure = new PushGatewayException(ErrorKind.REGISTRATION, "registration refused with HTTP " + response.statusCode() + ": " + message,
                        response.statusCode(), code, retryAfter(response.headers().firstValue("retry-after").orElse(null)));
            }
            report(failure);
            int status = failure.status();
            if (status != 0 && status != 429 && status < 500) {
                stop(new Stopped(false, 0, "", failure));
            } else {
                schedule(Math.max(backoff(), failure.retryAfterSeconds() * 1_000));
            }
        }));
    }

    /** Exponential backoff, with full jitter unless turned off. */
    private long backoff() {
        long bound = Math.min(maxDelayMillis, initialDelayMillis << Math.min(failures++, 30));
        return jitter ? (long) (ThreadLocalRandom.current().nextDouble() * bound) : bound;
    }

    private void schedule(long delayMillis) {
        if (isStopped()) {
            return;
        }
        setState(State.WAITING);
        timer = loop.schedule(this::connect, delayMillis, TimeUnit.MILLISECONDS);
    }

    private void stop(Stopped why) {
        if (isStopped()) {
            return;
        }
        if (timer != null) {
            timer.cancel(false);
        }
        setState(State.STOPPED);
        call(callbacks.onStopped, why);
        stopped.complete(why);
        // the thread ends once the socket's close has been handled; a socket that does not close in time is dropped
        Attempt last = attempt;
        if (last == null || last.settled || last.closed == null) {
            loop.shutdown();
        } else {
            last.closed.completeOnTimeout(null, 5, TimeUnit.SECONDS).whenComplete((done, error) -> post(() -> {
                if (last.settle() && last.socket != null) {
                    last.socket.abort();
                }
                loop.shutdown();
            }));
        }
    }

    /** Runs a task on the client's thread; false when the client has stopped and its thread is gone. */
    private boolean post(Runnable task) {
        try {
            loop.execute(task);
            return true;
        } catch (RejectedExecutionException stoppedAlready) {
            return false;
        }
    }

    private boolean isStopped() {
        return state == State.STOPPED;
    }

    private void setState(State next) {
        if (state != next && !isStopped()) {
            state = next;
            call(callbacks.onStateChange, next);
        }
    }

    private void report(PushGatewayException error) {
        call(callbacks.onError, error);
    }

    /** Runs a callback; what it throws is reported (or, thrown by onError, printed), not thrown into the client's thread. */
    private <T> void call(Consumer<? super T> callback, T value) {
        try {
            callback.accept(value);
        } catch (RuntimeException e) {
            if (callback == callbacks.onError) {
                e.printStackTrace();
            } else {
                report(new PushGatewayException(ErrorKind.SOCKET, "a callback threw: " + e, 0, null, -1));
            }
        }
    }

    private static long retryAfter(String value) {
        return value != null && value.trim().matches("\\d{1,9}") ? Long.parseLong(value.trim()) : -1;
    }

    private static WebSocketHandshakeException handshakeRefusal(Throwable error) {
        for (Throwable cause = error; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
            if (cause instanceof WebSocketHandshakeException refusal) {
                return refusal;
            }
        }
        return null;
    }

    /** What went wrong, without the wrappers of the futures. */
    private static String rootCause(Throwable error) {
        Throwable cause = error;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException)
                && cause.getCause() != null && cause.getCause() != cause) {
            cause = cause.getCause();
        }
        return cause.getMessage() != null ? cause.getMessage() : cause.getClass().getSimpleName();
    }

    /** One WebSocket: its events count until it settles (closes, fails, or is refused). */
    private final class Attempt {
        WebSocket socket;
        boolean settled;
        CompletableFuture<Void> closed;

        boolean settle() {
            if (settled) {
                return false;
            }
            settled = true;
            if (closed != null) {
                closed.complete(null);
            }
            return true;
        }

        void close() {
            if (socket == null) {
                return;
            }
            if (socket.isOutputClosed()) {
                socket.abort();
                return;
            }
            WebSocket open = socket;
            // the gateway answers with its close frame (onClose settles the attempt); the socket is dropped if sending fails
            open.sendClose(WebSocket.NORMAL_CLOSURE, "").whenComplete((sent, error) -> {
                if (error != null) {
                    open.abort();
                }
            });
        }
    }

    /** Joins a text message handed over in parts, and passes events to the client's thread for one attempt. */
    private final class SocketListener implements WebSocket.Listener {
        private final Attempt owner;
        private final StringBuilder message = new StringBuilder();

        SocketListener(Attempt owner) {
            this.owner = owner;
        }

        @Override
        public void onOpen(WebSocket webSocket) {
            post(() -> {
                if (!owner.settled && owner == attempt) {
                    setState(State.OPEN);
                }
            });
            webSocket.request(1);
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            message.append(data);
            if (!last) {
                webSocket.request(1);
                return null;
            }
            String text = message.toString();
            message.setLength(0);
            // the next frame is read once this one is handled: the callbacks see frames one at a time, in order
            boolean posted = post(() -> {
                try {
                    if (!owner.settled && !isStopped()) {
                        frame(text);
                    }
                } finally {
                    webSocket.request(1);
                }
            });
            if (!posted) {
                webSocket.abort();
            }
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket webSocket, java.nio.ByteBuffer data, boolean last) {
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            post(() -> {
                if (owner.settle()) {
                    closed(statusCode, reason);
                }
            });
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            post(() -> {
                if (owner.settle() && !isStopped()) {
                    report(new PushGatewayException(ErrorKind.SOCKET, rootCause(error), 0, null, -1));
                    closed(1006, "");
                }
            });
        }
    }

    /**
     * One frame the gateway sent: its text as received, and its fields parsed. The typed accessors read the
     * fields of the frame types (docs/protocol.md, "Frames"); {@link #get(String)} reads any other.
     */
    public static final class Frame {
        private final String text;
        private final Map<String, Object> fields;

        /**
         * Parses a frame.
         *
         * @param text the frame's JSON text
         * @throws IllegalArgumentException when the text is not a JSON object
         */
        public Frame(String text) {
            Object parsed = Json.parse(text);
            if (!(parsed instanceof Map<?, ?>)) {
                throw new IllegalArgumentException("not a JSON object");
            }
            Map<String, Object> map = new LinkedHashMap<>();
            ((Map<?, ?>) parsed).forEach((key, value) -> map.put((String) key, value));
            this.text = text;
            this.fields = Collections.unmodifiableMap(map);
        }

        /** @return the frame's text, exactly as received */
        public String text() {
            return text;
        }

        /** @return {@code welcome}, {@code entity}, {@code message}, {@code error}, or another type; "" when absent */
        public String type() {
            return Objects.requireNonNullElse(string("type"), "");
        }

        /** @return an entity's {@code seq}; -1 when absent */
        public long seq() {
            return number("seq");
        }

        /** @return an entity's {@code id} */
        public String id() {
            return string("id");
        }

        /** @return a welcome's {@code last_seq}; -1 when absent */
        public long lastSeq() {
            return number("last_seq");
        }

        /** @return a welcome's {@code epoch} */
        public String epoch() {
            return string("epoch");
        }

        /** @return a welcome's {@code recovered}: {@code null} when the connection did not say where it stopped */
        public Boolean recovered() {
            return fields.get("recovered") instanceof Boolean value ? value : null;
        }

        /** @return with {@code recovered: true}, how many missed entities follow; -1 when absent */
        public long missed() {
            return number("missed");
        }

        /** @return with {@code recovered: false}, why nothing follows ({@code history_expired}, {@code epoch_changed}, {@code too_many}) */
        public String reason() {
            return string("reason");
        }

        /**
         * The {@code data} of an entity or message, parsed: a {@code Map<String, Object>}, {@code List<Object>},
         * {@code String}, {@code Long}, {@code Double}, {@code Boolean} or {@code null}.
         *
         * @return the data
         */
        public Object data() {
            return fields.get("data");
        }

        /**
         * Any field, parsed as {@link #data()} is.
         *
         * @param name the field
         * @return its value, or {@code null}
         */
        public Object get(String name) {
            return fields.get(name);
        }

        /**
         * A field that is a string.
         *
         * @param name the field
         * @return its value, or {@code null} when absent or not a string
         */
        public String string(String name) {
            return fields.get(name) instanceof String value ? value : null;
        }

        private long number(String name) {
            return fields.get(name) instanceof Long value ? value : -1;
        }

        @Override
        public String toString() {
            return text;
        }
    }

    /** How a socket closed, and what the client does next. */
    public static final class CloseInfo {
        private final int code;
        private final String reason;
        private final long reconnectInMillis;

        CloseInfo(int code, String reason, long reconnectInMillis) {
            this.code = code;
            this.reason = reason;
            this.reconnectInMillis = reconnectInMillis;
        }

        /** @return the close code; 1006 when the connection ended without a close frame or could not be opened */
        public int code() {
            return code;
        }

        /** @return the close reason; "" when none */
        public String reason() {
            return reason;
        }

        /** @return the delay before the next attempt, in milliseconds; -1 when the client stops */
        public long reconnectInMillis() {
            return reconnectInMillis;
        }

        @Override
        public String toString() {
            return code + (reason.isEmpty() ? "" : " " + reason);
        }
    }

    /** Why the client stopped for good. */
    public static final class Stopped {
        private final boolean byClient;
        private final int code;
        private final String reason;
        private final PushGatewayException error;

        Stopped(boolean byClient, int code, String reason, PushGatewayException error) {
            this.byClient = byClient;
            this.code = code;
            this.reason = reason;
            this.error = error;
        }

        /** @return true when {@link PushGatewayClient#close()} stopped it; false when the gateway did */
        public boolean byClient() {
            return byClient;
        }

        /** @return the close code that stopped it (1000, 1008, 1009); 0 when a refusal or registration did */
        public int code() {
            return code;
        }

        /** @return the reason of that close; "" when none */
        public String reason() {
            return reason;
        }

        /** @return the refusal or failed registration that stopped it; {@code null} when a close did */
        public PushGatewayException error() {
            return error;
        }

        @Override
        public String toString() {
            if (byClient) {
                return "closed by the client";
            }
            return error != null ? error.getMessage() : "closed by the server with " + code + (reason.isEmpty() ? "" : " " + reason);
        }
    }

    /** An error the client reports through {@link Builder#onError}, or stops with ({@link Stopped#error()}). */
    public static final class PushGatewayException extends Exception {
        private static final long serialVersionUID = 1L;
        private final ErrorKind kind;
        private final int status;
        private final String code;
        private final long retryAfterSeconds;

        PushGatewayException(ErrorKind kind, String message, int status, String code, long retryAfterSeconds) {
            super(message);
            this.kind = kind;
            this.status = status;
            this.code = code;
            this.retryAfterSeconds = retryAfterSeconds;
        }

        /** @return what went wrong */
        public ErrorKind kind() {
            return kind;
        }

        /** @return the HTTP status of a refusal or failed registration; 0 otherwise */
        public int status() {
            return status;
        }

        /** @return the {@code error} of a refused registration's body, or the {@code code} of an error frame; {@code null} otherwise */
        public String code() {
            return code;
        }

        /** @return the seconds the gateway asked to wait ({@code Retry-After} of a 429 or 503); -1 when it did not say */
        public long retryAfterSeconds() {
            return retryAfterSeconds;
        }
    }

    /** Configures a {@link PushGatewayClient}; every setting but the three of {@link PushGatewayClient#builder} is optional. */
    public static final class Builder {
        private final String baseUrl;
        private final String clientId;
        private final String clientSecret;
        private String token;
        private List<String> groups = List.of();
        private long lastSeq = -1;
        private String epoch;
        private Duration initialDelay = Duration.ofSeconds(1);
        private Duration maxDelay = Duration.ofSeconds(30);
        private boolean jitter = true;
        private HttpClient httpClient;
        private Consumer<? super Frame> onWelcome = frame -> { };
        private Consumer<? super Frame> onEntity = frame -> { };
        private Consumer<? super Frame> onMessage = frame -> { };
        private Consumer<? super Frame> onFrame = frame -> { };
        private Consumer<? super PushGatewayException> onError = error -> { };
        private Consumer<? super CloseInfo> onClose = info -> { };
        private Consumer<? super State> onStateChange = next -> { };
        private Consumer<? super Stopped> onStopped = why -> { };

        private Builder(String baseUrl, String clientId, String clientSecret) {
            this.baseUrl = Objects.requireNonNull(baseUrl, "baseUrl");
            this.clientId = Objects.requireNonNull(clientId, "clientId");
            this.clientSecret = clientSecret;
        }

        /**
         * A token registered earlier, to connect with before registering.
         *
         * @param token the consumer token
         * @return this builder
         */
        public Builder token(String token) {
            this.token = token;
            return this;
        }

        /**
         * The groups to join (the {@code groups} header); absent or empty: the client's default groups. A group
         * not granted to the client is refused with 403, and the client stops.
         *
         * @param groups the groups
         * @return this builder
         */
        public Builder groups(List<String> groups) {
            this.groups = List.copyOf(groups);
            return this;
        }

        /**
         * Where an earlier run stopped ({@link PushGatewayClient#lastSeq()} and {@link PushGatewayClient#epoch()}):
         * the first connection asks for what was missed since.
         *
         * @param lastSeq the highest {@code seq} processed
         * @param epoch the epoch it belongs to
         * @return this builder
         */
        public Builder resumeFrom(long lastSeq, String epoch) {
            this.lastSeq = lastSeq;
            this.epoch = epoch;
            return this;
        }

        /**
         * The backoff: the first delay after a failure (default 1 s) doubles with every failure in a row up to
         * {@code max} (default 30 s); with jitter (the default) each delay is drawn uniformly between 0 and that bound.
         *
         * @param initial the first bound
         * @param max the largest bound
         * @param jitter whether to draw each delay (full jitter) or wait the whole bound
         * @return this builder
         */
        public Builder reconnect(Duration initial, Duration max, boolean jitter) {
            if (initial.isNegative() || max.compareTo(initial) < 0) {
                throw new IllegalArgumentException("0 <= initial <= max");
            }
            this.initialDelay = initial;
            this.maxDelay = max;
            this.jitter = jitter;
            return this;
        }

        /**
         * The HttpClient to register and connect with (default: an HTTP/1.1 one with a 10 s connect timeout).
         *
         * @param httpClient the client
         * @return this builder
         */
        public Builder httpClient(HttpClient httpClient) {
            this.httpClient = httpClient;
            return this;
        }

        /**
         * Each welcome, the first frame of every connection. With {@code recovered: false} nothing missed is
         * replayed: resynchronise from the source of truth.
         *
         * @param onWelcome the callback
         * @return this builder
         */
        public Builder onWelcome(Consumer<? super Frame> onWelcome) {
            this.onWelcome = Objects.requireNonNull(onWelcome);
            return this;
        }

        /**
         * Each entity, in {@code seq} order: replayed ones after a recovering welcome, then live ones.
         *
         * @param onEntity the callback
         * @return this builder
         */
        public Builder onEntity(Consumer<? super Frame> onEntity) {
            this.onEntity = Objects.requireNonNull(onEntity);
            return this;
        }

        /**
         * Each message an operator sent to this connection.
         *
         * @param onMessage the callback
         * @return this builder
         */
        public Builder onMessage(Consumer<? super Frame> onMessage) {
            this.onMessage = Objects.requireNonNull(onMessage);
            return this;
        }

        /**
         * Every frame as received, before the callbacks above.
         *
         * @param onFrame the callback
         * @return this builder
         */
        public Builder onFrame(Consumer<? super Frame> onFrame) {
            this.onFrame = Objects.requireNonNull(onFrame);
            return this;
        }

        /**
         * Error frames ({@link ErrorKind#FRAME}), refused handshakes ({@link ErrorKind#REFUSED}), failed
         * registrations ({@link ErrorKind#REGISTRATION}) and network errors ({@link ErrorKind#SOCKET}).
         *
         * @param onError the callback
         * @return this builder
         */
        public Builder onError(Consumer<? super PushGatewayException> onError) {
            this.onError = Objects.requireNonNull(onError);
            return this;
        }

        /**
         * Each socket that closed, or could not be opened (1006), with what comes next.
         *
         * @param onClose the callback
         * @return this builder
         */
        public Builder onClose(Consumer<? super CloseInfo> onClose) {
            this.onClose = Objects.requireNonNull(onClose);
            return this;
        }

        /**
         * Each change of {@link State}.
         *
         * @param onStateChange the callback
         * @return this builder
         */
        public Builder onStateChange(Consumer<? super State> onStateChange) {
            this.onStateChange = Objects.requireNonNull(onStateChange);
            return this;
        }

        /**
         * Once, when the client stops for good (as {@link PushGatewayClient#stopped()} completes).
         *
         * @param onStopped the callback
         * @return this builder
         */
        public Builder onStopped(Consumer<? super Stopped> onStopped) {
            this.onStopped = Objects.requireNonNull(onStopped);
            return this;
        }

        /**
         * The client, not started yet.
         *
         * @return the client
         */
        public PushGatewayClient build() {
            return new PushGatewayClient(this);
        }
    }

    /** The callbacks, fixed at build time. */
    private static final class Callbacks {
        final Consumer<? super Frame> onWelcome;
        final Consumer<? super Frame> onEntity;
        final Consumer<? super Frame> onMessage;
        final Consumer<? super Frame> onFrame;
        final Consumer<? super PushGatewayException> onError;
        final Consumer<? super CloseInfo> onClose;
        final Consumer<? super State> onStateChange;
        final Consumer<? super Stopped> onStopped;

        Callbacks(Builder builder) {
            onWelcome = builder.onWelcome;
            onEntity = builder.onEntity;
            onMessage = builder.onMessage;
            onFrame = builder.onFrame;
            onError = builder.onError;
            onClose = builder.onClose;
            onStateChange = builder.onStateChange;
            onStopped = builder.onStopped;
        }
    }

    /** Just enough JSON for the gateway's frames: objects, arrays, strings, numbers, booleans and null. */
    static final class Json {
        private final String text;
        private int at;

        private Json(String text) {
            this.text = text;
        }

        /**
         * Parses one JSON value: a Map, List, String, Long (integers), Double, Boolean or null.
         *
         * @throws IllegalArgumentException when the text is not JSON
         */
        static Object parse(String text) {
            Json json = new Json(text);
            Object value = json.value();
            json.skipSpace();
            if (json.at != text.length()) {
                throw json.error("trailing characters");
            }
            return value;
        }

        private Object value() {
            skipSpace();
            if (at >= text.length()) {
                throw error("unexpected end");
            }
            char c = text.charAt(at);
            switch (c) {
                case '{':
                    return object();
                case '[':
                    return array();
                case '"':
                    return string();
                case 't':
                    return literal("true", Boolean.TRUE);
                case 'f':
                    return literal("false", Boolean.FALSE);
                case 'n':
                    return literal("null", null);
                default:
                    return number();
            }
        }

        private Map<String, Object> object() {
            Map<String, Object> map = new LinkedHashMap<>();
            at++;
            skipSpace();
            if (peek() == '}') {
                at++;
                return map;
            }
            while (true) {
                skipSpace();
                if (peek() != '"') {
                    throw error("a field name expected");
                }
                String key = string();
                skipSpace();
                expect(':');
                map.put(key, value());
                skipSpace();
                if (peek() == ',') {
                    at++;
                } else {
                    expect('}');
                    return map;
                }
            }
        }

        private List<Object> array() {
            List<Object> list = new ArrayList<>();
            at++;
            skipSpace();
            if (peek() == ']') {
                at++;
                return list;
            }
            while (true) {
                list.add(value());
                skipSpace();
                if (peek() == ',') {
                    at++;
                } else {
                    expect(']');
                    return list;
                }
            }
        }

        private String string() {
            at++;
            StringBuilder out = new StringBuilder();
            int start = at;
            while (true) {
                if (at >= text.length()) {
                    throw error("unterminated string");
                }
                char c = text.charAt(at);
                if (c == '"') {
                    out.append(text, start, at);
                    at++;
                    return out.toString();
                }
                if (c == '\\') {
                    out.append(text, start, at);
                    if (at + 1 >= text.length()) {
                        throw error("unterminated escape");
                    }
                    char escaped = text.charAt(at + 1);
                    at += 2;
                    switch (escaped) {
                        case '"': out.append('"'); break;
                        case '\\': out.append('\\'); break;
                        case '/': out.append('/'); break;
                        case 'b': out.append('\b'); break;
                        case 'f': out.append('\f'); break;
                        case 'n': out.append('\n'); break;
                        case 'r': out.append('\r'); break;
                        case 't': out.append('\t'); break;
                        case 'u':
                            if (at + 4 > text.length()) {
                                throw error("bad \\u escape");
                            }
                            try {
                                out.append((char) Integer.parseInt(text.substring(at, at + 4), 16));
                            } catch (NumberFormatException e) {
                                throw error("bad \\u escape");
                            }
                            at += 4;
                            break;
                        default:
                            throw error("bad escape");
                    }
                    start = at;
                } else {
                    at++;
                }
            }
        }

        private Object number() {
            int start = at;
            while (at < text.length() && "+-0123456789.eE".indexOf(text.charAt(at)) >= 0) {
                at++;
            }
            String number = text.substring(start, at);
            if (number.isEmpty()) {
                throw error("unexpected character");
            }
            try {
                if (number.matches("-?\\d{1,18}")) {
                    return Long.parseLong(number);
                }
                return Double.parseDouble(number);
            } catch (NumberFormatException e) {
                throw error("bad number");
            }
        }

        private Object literal(String word, Object value) {
            if (!text.startsWith(word, at)) {
                throw error("unexpected character");
            }
            at += word.length();
            return value;
        }

        private void skipSpace() {
            while (at < text.length() && Character.isWhitespace(text.charAt(at))) {
                at++;
            }
        }

        private char peek() {
            return at < text.length() ? text.charAt(at) : '\0';
        }

        private void expect(char c) {
            if (peek() != c) {
                throw error("'" + c + "' expected");
            }
            at++;
        }

        private IllegalArgumentException error(String what) {
            return new IllegalArgumentException(what + " at " + at);
        }
    }
}
