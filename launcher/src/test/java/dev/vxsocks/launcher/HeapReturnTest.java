package dev.vxsocks.launcher;

import com.sun.management.HotSpotDiagnosticMXBean;
import com.sun.management.VMOption;
import java.lang.management.ManagementFactory;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** HeapReturn against a stand-in for HotSpot's flags: it changes defaults only, and only under G1. */
class HeapReturnTest {

  /** The flags HeapReturn reads, with HotSpot's defaults and its rule that MaxHeapFreeRatio ≥ MinHeapFreeRatio. */
  static final class Flags implements HotSpotDiagnosticMXBean {
    final Map<String, VMOption> options = new HashMap<>();
    final Map<String, String> sets = new HashMap<>();

    Flags(boolean g1) {
      put("UseG1GC", String.valueOf(g1), VMOption.Origin.ERGONOMIC);
      put("MinHeapFreeRatio", "40", VMOption.Origin.DEFAULT);
      put("MaxHeapFreeRatio", "70", VMOption.Origin.DEFAULT);
      put("G1PeriodicGCInterval", "0", VMOption.Origin.DEFAULT);
    }

    Flags given(String name, String value) {
      put(name, value, VMOption.Origin.VM_CREATION);
      return this;
    }

    private void put(String name, String value, VMOption.Origin origin) {
      options.put(name, new VMOption(name, value, true, origin));
    }

    long get(String name) {
      return Long.parseLong(options.get(name).getValue());
    }

    @Override
    public VMOption getVMOption(String name) {
      VMOption o = options.get(name);
      if (o == null) throw new IllegalArgumentException("no flag " + name);
      return o;
    }

    @Override
    public void setVMOption(String name, String value) {
      long v = Long.parseLong(value);
      if (name.equals("MaxHeapFreeRatio") && v < get("MinHeapFreeRatio")
          || name.equals("MinHeapFreeRatio") && v > get("MaxHeapFreeRatio")) {
        throw new IllegalArgumentException("MaxHeapFreeRatio must be at least MinHeapFreeRatio");
      }
      sets.put(name, value);
      put(name, value, VMOption.Origin.MANAGEMENT);
    }

    @Override
    public void dumpHeap(String outputFile, boolean live) {
      throw new UnsupportedOperationException();
    }

    @Override
    public List<VMOption> getDiagnosticOptions() {
      return List.of();
    }

    @Override
    public ObjectName getObjectName() {
      return null;
    }
  }

  @Test
  void underG1TheDefaultsAreChanged() {
    Flags flags = new Flags(true);
    HeapReturn.Applied applied = HeapReturn.apply(flags);
    assertThat(flags.get("MinHeapFreeRatio")).isEqualTo(HeapReturn.MIN_FREE_PERCENT);
    assertThat(flags.get("MaxHeapFreeRatio")).isEqualTo(HeapReturn.MAX_FREE_PERCENT);
    assertThat(flags.get("G1PeriodicGCInterval")).isEqualTo(HeapReturn.PERIODIC_GC_MS);
    assertThat(applied.periodicIsOurs()).isTrue();
    assertThat(applied.line()).isEqualTo(
        "heap: a G1 collection after 5000 ms without one (once per quiet spell); G1 keeps 10-30 % of the heap free");
  }

  @Test
  void aFlagGivenOnTheCommandLineStands() {
    Flags flags = new Flags(true).given("G1PeriodicGCInterval", "0");
    HeapReturn.Applied applied = HeapReturn.apply(flags);
    assertThat(flags.sets).doesNotContainKey("G1PeriodicGCInterval");
    assertThat(flags.get("G1PeriodicGCInterval")).isZero();
    assertThat(flags.get("MaxHeapFreeRatio")).isEqualTo(HeapReturn.MAX_FREE_PERCENT);
    assertThat(applied.periodicIsOurs()).as("not switched on and off either").isFalse();
    assertThat(applied.line()).isEqualTo("heap: no periodic G1 collection; G1 keeps 10-30 % of the heap free"
        + " (left as the command line has them: G1PeriodicGCInterval)");
  }

  @Test
  void aMinimumAboveOurMaximumKeepsBothAsTheOperatorLeftThem() {
    Flags flags = new Flags(true).given("MinHeapFreeRatio", "50");
    String line = HeapReturn.apply(flags).line();
    assertThat(flags.get("MinHeapFreeRatio")).isEqualTo(50);
    assertThat(flags.get("MaxHeapFreeRatio")).as("30 would be below the operator's minimum").isEqualTo(70);
    assertThat(flags.get("G1PeriodicGCInterval")).isEqualTo(HeapReturn.PERIODIC_GC_MS);
    assertThat(line).contains("G1 keeps 50-70 % of the heap free")
        .endsWith("(left as the command line has them: MinHeapFreeRatio, MaxHeapFreeRatio)");
  }

  @Test
  void anotherCollectorIsLeftAlone() {
    Flags flags = new Flags(false);
    HeapReturn.Applied applied = HeapReturn.apply(flags);
    assertThat(applied.line()).isEqualTo("heap: not G1; JVM heap settings left as they are");
    assertThat(applied.periodicIsOurs()).isFalse();
    assertThat(flags.sets).isEmpty();
  }

  /** The periodic collection runs once per quiet spell: off after it ran, on at the next collection of another cause. */
  @Test
  void thePeriodicCollectionIsSwitchedOffAfterItRanAndOnByTheNextOther() {
    Flags flags = new Flags(true);
    HeapReturn.apply(flags);
    HeapReturn r = HeapReturn.follow(flags, List.of());
    r.onCollection("G1 Evacuation Pause");
    assertThat(flags.get("G1PeriodicGCInterval")).isEqualTo(5000);
    r.onCollection(HeapReturn.PERIODIC_CAUSE);
    assertThat(flags.get("G1PeriodicGCInterval")).as("quiet, and already collected: no more cycles").isZero();
    flags.sets.clear();
    r.onCollection(HeapReturn.PERIODIC_CAUSE);
    assertThat(flags.sets).isEmpty();
    r.onCollection("G1 Evacuation Pause");
    assertThat(flags.get("G1PeriodicGCInterval")).as("allocating again").isEqualTo(5000);
    r.onCollection("G1 Humongous Allocation");
    r.onCollection(HeapReturn.PERIODIC_CAUSE);
    assertThat(flags.get("G1PeriodicGCInterval")).isZero();
  }

  @Test
  void aValueSetWithJcmdEndsTheSwitching() {
    Flags flags = new Flags(true);
    HeapReturn.apply(flags);
    HeapReturn r = HeapReturn.follow(flags, List.of());
    flags.options.put("G1PeriodicGCInterval", new VMOption("G1PeriodicGCInterval", "60000", true, VMOption.Origin.ATTACH_ON_DEMAND));
    r.onCollection(HeapReturn.PERIODIC_CAUSE);
    r.onCollection("G1 Evacuation Pause");
    assertThat(flags.get("G1PeriodicGCInterval")).isEqualTo(60000);
  }

  /** The JVM's own collection notifications reach it: a System.gc() after a periodic collection switches it on. */
  @Test
  void realCollectionsReachIt() throws Exception {
    Flags flags = new Flags(true);
    HeapReturn.apply(flags);
    HeapReturn r = HeapReturn.follow(flags, ManagementFactory.getGarbageCollectorMXBeans());
    try {
      r.onCollection(HeapReturn.PERIODIC_CAUSE);
      assertThat(flags.get("G1PeriodicGCInterval")).isZero();
      System.gc();
      for (int i = 0; i < 100 && flags.get("G1PeriodicGCInterval") == 0; i++) {
        Thread.sleep(50);
      }
      assertThat(flags.get("G1PeriodicGCInterval")).as("the System.gc() notification").isEqualTo(5000);
    } finally {
      r.stop();
    }
  }
}
