package dev.vxsocks.launcher;

import com.sun.management.GarbageCollectionNotificationInfo;
import com.sun.management.HotSpotDiagnosticMXBean;
import com.sun.management.VMOption;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;
import javax.management.ListenerNotFoundException;
import javax.management.Notification;
import javax.management.NotificationEmitter;
import javax.management.NotificationFilter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;

/**
 * Lets the JVM give back the heap a burst of sessions made it grow, once the node has been quiet for a few seconds.
 *
 * <p>G1 grows the heap while many connections open at once (a load balancer fails over, clients reconnect) and by
 * default keeps what it grew for good: with {@code MaxHeapFreeRatio=70} and no periodic collection, a node that
 * opened 9,900 sessions in 3 s and then held them idle stayed at 295-327 MiB of RSS for 62 MiB of live heap. Here,
 * once 5 s pass without a collection, G1 runs one concurrent cycle, and at its end shrinks the heap to at most 30 %
 * free; the same node settles at 150-180 MiB (docs/BENCHMARKS.md).
 *
 * <p>One cycle per quiet spell: G1 would repeat the periodic cycle every 5 s for as long as the node stays quiet, at
 * up to 3-4 % of a core while holding 9,900 sessions, to free nothing more. So the periodic collection is switched off
 * when one has run and on again at the next collection of any other cause, which is the next burst of allocation.
 * Under load young collections come far more often than every 5 s, and the periodic one does not run at all.
 *
 * <p>The flags are manageable, so they are set here at start, as {@code java -jar} carries no JVM options. A flag
 * the operator gave on the command line (or through {@code JAVA_TOOL_OPTIONS}) is left as given, nothing is changed
 * under another collector, and a {@code jcmd PID VM.set_flag G1PeriodicGCInterval ...} ends the switching. A value
 * set through JMX (JConsole, for one) carries the same origin as the node's own and is switched like it.
 */
final class HeapReturn {
  static final long PERIODIC_GC_MS = 5_000;
  static final int MIN_FREE_PERCENT = 10;
  static final int MAX_FREE_PERCENT = 30;
  static final String PERIODIC = "G1PeriodicGCInterval";
  /** The cause HotSpot gives the young pause that starts a periodic cycle. */
  static final String PERIODIC_CAUSE = "G1 Periodic Collection";
  private static final Logger LOG = Logger.getLogger("dev.vxsocks.node");
  private static final NotificationFilter COLLECTIONS =
      n -> GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(n.getType());

  /** What {@link #apply(HotSpotDiagnosticMXBean)} did: the line to log, and whether the periodic collection is ours. */
  record Applied(String line, boolean periodicIsOurs) {}

  private final HotSpotDiagnosticMXBean vm;
  private final List<NotificationEmitter> emitters = new ArrayList<>();
  private final NotificationListener listener = this::onNotification;
  private volatile boolean armed = true;
  private volatile boolean operatorTookOver;

  private HeapReturn(HotSpotDiagnosticMXBean vm) {
    this.vm = vm;
  }

  /** Applies the settings to this JVM and follows its collections; returns the line to log. */
  static String apply() {
    HotSpotDiagnosticMXBean vm;
    try {
      vm = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
    } catch (RuntimeException e) {
      vm = null; // not a HotSpot JVM
    }
    Applied applied = apply(vm);
    if (applied.periodicIsOurs()) {
      follow(vm, ManagementFactory.getGarbageCollectorMXBeans());
    }
    return applied.line();
  }

  static Applied apply(HotSpotDiagnosticMXBean vm) {
    if (vm == null) {
      return new Applied("heap: no HotSpot diagnostic bean; JVM heap settings left as they are", false);
    }
    if (!"true".equals(value(vm, "UseG1GC"))) {
      return new Applied("heap: not G1; JVM heap settings left as they are", false);
    }
    List<String> kept = new ArrayList<>();
    // MinHeapFreeRatio first: MaxHeapFreeRatio may not go below it.
    set(vm, "MinHeapFreeRatio", MIN_FREE_PERCENT, kept);
    set(vm, "MaxHeapFreeRatio", MAX_FREE_PERCENT, kept);
    boolean ours = set(vm, PERIODIC, PERIODIC_GC_MS, kept);
    String periodic = value(vm, PERIODIC);
    String line = "heap: " + ("0".equals(periodic) ? "no periodic G1 collection"
            : "a G1 collection after " + periodic + " ms without one" + (ours ? " (once per quiet spell)" : ""))
        + "; G1 keeps " + value(vm, "MinHeapFreeRatio") + "-" + value(vm, "MaxHeapFreeRatio") + " % of the heap free"
        + (kept.isEmpty() ? "" : " (left as the command line has them: " + String.join(", ", kept) + ")");
    return new Applied(line, ours);
  }

  /** Switches the periodic collection off after it ran, and on at the next collection of another cause. */
  static HeapReturn follow(HotSpotDiagnosticMXBean vm, List<GarbageCollectorMXBean> collectors) {
    HeapReturn r = new HeapReturn(vm);
    for (GarbageCollectorMXBean gc : collectors) {
      if (gc instanceof NotificationEmitter emitter) {
        emitter.addNotificationListener(r.listener, COLLECTIONS, null);
        r.emitters.add(emitter);
      }
    }
    return r;
  }

  /** Stops following the collections (for tests; a node follows them for as long as it runs). */
  void stop() {
    for (NotificationEmitter emitter : emitters) {
      try {
        emitter.removeNotificationListener(listener, COLLECTIONS, null);
      } catch (ListenerNotFoundException ignored) {
        // already gone
      }
    }
  }

  private void onNotification(Notification n, Object handback) {
    onCollection(GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData()).getGcCause());
  }

  /** Called after every collection, on the JVM's notification thread, with HotSpot's cause. */
  void onCollection(String cause) {
    boolean wanted = !PERIODIC_CAUSE.equals(cause);
    if (armed == wanted || operatorTookOver) {
      return;
    }
    try {
      if (vm.getVMOption(PERIODIC).getOrigin() == VMOption.Origin.ATTACH_ON_DEMAND) {
        operatorTookOver = true; // set with jcmd since: theirs from now on
        LOG.info("heap: " + PERIODIC + " was set with jcmd; the node no longer switches it");
        return;
      }
      vm.setVMOption(PERIODIC, wanted ? Long.toString(PERIODIC_GC_MS) : "0");
      armed = wanted;
    } catch (RuntimeException e) {
      operatorTookOver = true;
      LOG.warning("heap: cannot switch " + PERIODIC + " (" + e + "); left as it is");
    }
  }

  /** Sets a flag the command line left at its default; false (and the name in {@code kept}) if it stays as it was. */
  private static boolean set(HotSpotDiagnosticMXBean vm, String name, long value, List<String> kept) {
    VMOption option;
    try {
      option = vm.getVMOption(name);
    } catch (IllegalArgumentException e) {
      return false; // a JVM without this flag
    }
    if (option.getOrigin() != VMOption.Origin.DEFAULT) {
      kept.add(name);
      return false;
    }
    try {
      vm.setVMOption(name, Long.toString(value));
      return true;
    } catch (IllegalArgumentException | SecurityException e) {
      // e.g. MaxHeapFreeRatio below a MinHeapFreeRatio the operator raised: their setting stands
      kept.add(name);
      return false;
    }
  }

  private static String value(HotSpotDiagnosticMXBean vm, String name) {
    try {
      return vm.getVMOption(name).getValue();
    } catch (IllegalArgumentException e) {
      return "?";
    }
  }
}
