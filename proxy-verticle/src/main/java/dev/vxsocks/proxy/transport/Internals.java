package dev.vxsocks.proxy.transport;

import io.vertx.core.Vertx;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import java.util.logging.Logger;
import java.util.stream.Collectors;

/**
 * The fence around Vert.x's internals: picks, once per JVM, for each of {@link ZeroCopy}, {@link HalfClose},
 * {@link DirectWrites} and {@link SocketTransport}, either its implementation on Vert.x's internal API (and Netty's
 * channels, and reflection) or its portable one on Vert.x's public API. The internal one is used unless the Vert.x on
 * the class path lacks something it needs, which each internal implementation checks in its constructor (classes,
 * methods, fields, by name: a missing method would otherwise only show as a {@code NoSuchMethodError} in the middle of
 * a session). A fallback is said once, in one WARNING line naming what is missing and what the fallback costs.
 *
 * <p>All four are picked together, the first time any of them is used: at start-up, since the launcher asks
 * {@link SocketTransport#preferred} for its transport and the proxy server calls {@link DirectWrites#available} before
 * it deploys. Each façade keeps its pick in a static final field, so the hot path calls one known class.
 *
 * <p>{@code -Dvxsocks.transport.portable=ZeroCopy,HalfClose,DirectWrites,SocketTransport} (any of them, or
 * {@code all}) forces the portable implementations: for the tests of the fallbacks, or to rule the internal paths out
 * when chasing a problem.
 */
final class Internals {

  /** The system property that forces portable implementations. */
  static final String PORTABLE_PROPERTY = "vxsocks.transport.portable";

  private static final Logger LOG = Logger.getLogger(Internals.class.getName());
  private static final Set<String> FORCED = forced(System.getProperty(PORTABLE_PROPERTY, ""));
  /** Why a concern runs portable, by concern; absent when it runs on the internal path. Filled once, below. */
  private static final Map<String, String> PORTABLE_BECAUSE = new LinkedHashMap<>();

  static final ZeroCopy.Path ZERO_COPY = choose("ZeroCopy", InternalZeroCopy::new, PortableZeroCopy::new,
      "every relayed read is copied into a heap buffer and back again (about a third less relay throughput, and"
          + " garbage to collect)");
  static final HalfClose.Path HALF_CLOSE = choose("HalfClose", InternalHalfClose::new, PortableHalfClose::new,
      "no TCP half-close: a peer's FIN closes its connection, and the relay then closes the other one too, so"
          + " whatever the other side sends after that FIN is lost (e.g. the reply to a request sent with a FIN),"
          + " and bytes the relay still held back for a slow receiver can be dropped");
  static final DirectWrites.Path DIRECT_WRITES = choose("DirectWrites", InternalDirectWrites::new,
      PortableDirectWrites::new,
      "sockets keep Vert.x's multi-producer write queue (about 9 KiB more per session)");
  static final SocketTransport.Path SOCKET_TRANSPORT = choose("SocketTransport", LeanTransport::new,
      PortableTransport::new,
      "Vert.x sets its socket options on every connection even when they are no-ops (about 10 more setsockopt"
          + " calls per proxied session)");

  private Internals() {
  }

  /**
   * Why {@code concern} (a façade's simple name) runs on its portable implementation: the missing internal API, or
   * the forcing property; null when it runs on the internal path.
   */
  static String portableBecause(String concern) {
    return PORTABLE_BECAUSE.get(concern);
  }

  /** The Vert.x version on the class path, for messages. */
  static String vertxVersion() {
    String version = Vertx.class.getPackage().getImplementationVersion();
    return version == null ? "(version unknown)" : version;
  }

  private static <T> T choose(String concern, Callable<T> internal, Supplier<T> portable, String cost) {
    String because;
    if (FORCED.contains(concern.toLowerCase(Locale.ROOT)) || FORCED.contains("all")) {
      because = "forced by -D" + PORTABLE_PROPERTY;
    } else {
      try {
        return internal.call();
      } catch (Exception | LinkageError e) {
        because = "Vert.x " + vertxVersion() + " lacks what it uses: " + e;
      }
    }
    PORTABLE_BECAUSE.put(concern, because);
    LOG.warning(concern + " runs on Vert.x's public API only (" + because + "); the cost: " + cost);
    return portable.get();
  }

  private static Set<String> forced(String property) {
    return Collections.unmodifiableSet(Arrays.stream(property.split(","))
        .map(s -> s.trim().toLowerCase(Locale.ROOT))
        .filter(s -> !s.isEmpty())
        .collect(Collectors.toSet()));
  }
}
