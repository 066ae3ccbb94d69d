import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An outbound relay set up from Java, with nothing but the JDK (17 or later):
 * asks the gateway to connect to an upstream WebSocket feed and publish every
 * message it sends as an entity to a group ({@code POST /admin/outbound-sockets}),
 * waits until the socket is open, prints its id, and, given one, deletes it.
 * Consumers of the group (for example {@link PushConsumer}) receive the relayed
 * entities.
 *
 * <pre>
 * javac -d out OutboundRelay.java
 * java -cp out OutboundRelay http://127.0.0.1:3000 "$ADMIN_TOKEN" ws://feeds.example:4000/prices prices
 * java -cp out OutboundRelay http://127.0.0.1:3000 "$ADMIN_TOKEN" --delete &lt;socket-id&gt;
 * </pre>
 *
 * <p>Exit status: 0 done, 2 bad usage, 3 the gateway refused, 1 the socket did
 * not open within 30 seconds.
 */
public final class OutboundRelay {

    private static final Pattern SOCKET_ID = Pattern.compile("\"socket_id\"\\s*:\\s*\"([^\"\\\\]+)\"");
    private static final Pattern STATE = Pattern.compile("\"state\"\\s*:\\s*\"([a-z]+)\"");

    private OutboundRelay() {
    }

    public static void main(String[] args) throws IOException, InterruptedException {
        if (args.length != 4) {
            System.err.println("usage: java OutboundRelay <base-url> <admin-token> <feed-url> <group> | <base-url> <admin-token> --delete <socket-id>");
            System.exit(2);
        }
        String baseUrl = args[0].replaceAll("/+$", "");
        String adminToken = args[1];
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();

        if (args[2].equals("--delete")) {
            HttpResponse<String> deleted = send(http, request(baseUrl + "/admin/outbound-sockets/" + args[3], adminToken).DELETE().build());
            expect(deleted, 204);
            System.out.println("deleted " + args[3]);
            return;
        }

        String body = "{\"url\":" + quoted(args[2]) + ",\"relay_to_groups\":[" + quoted(args[3]) + "]}";
        HttpResponse<String> created = send(http, request(baseUrl + "/admin/outbound-sockets", adminToken)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build());
        expect(created, 201);
        Matcher id = SOCKET_ID.matcher(created.body());
        if (!id.find()) {
            System.err.println("no socket_id in " + created.body());
            System.exit(3);
        }
        String socketId = id.group(1);

        // the gateway connects on its own: ask until the socket is open
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            HttpResponse<String> described = send(http, request(baseUrl + "/admin/outbound-sockets/" + socketId, adminToken).GET().build());
            expect(described, 200);
            Matcher state = STATE.matcher(described.body());
            if (state.find() && state.group(1).equals("open")) {
                break;
            }
            if (System.nanoTime() > deadline) {
                System.err.println("outbound socket " + socketId + " did not open: " + described.body());
                System.exit(1);
            }
            Thread.sleep(100);
        }
        System.out.println("relaying " + socketId);
    }

    private static HttpRequest.Builder request(String url, String adminToken) {
        return HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + adminToken).timeout(Duration.ofSeconds(10));
    }

    private static HttpResponse<String> send(HttpClient http, HttpRequest request) throws IOException, InterruptedException {
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    private static void expect(HttpResponse<String> response, int status) {
        if (response.statusCode() != status) {
            System.err.println(response.request().method() + " " + response.uri().getPath() + ": HTTP " + response.statusCode() + " " + response.body());
            System.exit(3);
        }
    }

    /** A JSON string: the few characters that need it escaped. */
    private static String quoted(String text) {
        StringBuilder json = new StringBuilder("\"");
        for (char c : text.toCharArray()) {
            switch (c) {
                case '"' -> json.append("\\\"");
                case '\\' -> json.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        json.append(String.format("\\u%04x", (int) c));
                    } else {
                        json.append(c);
                    }
                }
            }
        }
        return json.append('"').toString();
    }
}
